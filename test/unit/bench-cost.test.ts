/**
 * The bench's explanatory figures: the spread of per-pair ratios (scripts/bench/stats.ts) and CPU by thread
 * (scripts/lib/proc.ts, scripts/bench/server-cost.ts), read from /proc on Linux.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockCost, formatThreads, type CostSnapshot } from '../../scripts/bench/server-cost';
import { spread } from '../../scripts/bench/stats';
import { threadCpuSeconds } from '../../scripts/lib/proc';

test('spread names the lowest, the median and the highest, whatever the order', () => {
  assert.equal(spread([0.81, 0.72, 0.77]), '0.72 / 0.77 / 0.81');
  // An even count: the median is the mean of the middle two.
  assert.equal(spread([0.9, 0.7, 0.8, 0.6]), '0.60 / 0.75 / 0.90');
  assert.equal(spread([0.5]), '0.50 / 0.50 / 0.50');
  // A pair whose ratio could not be computed is left out, not counted as zero.
  assert.equal(spread([NaN, 0.8, 0.7]), '0.70 / 0.75 / 0.80');
  assert.equal(spread([]), 'n/a');
});

test('threadCpuSeconds names the main thread and sees its CPU grow', { skip: process.platform !== 'linux' }, () => {
  const before = threadCpuSeconds(process.pid);
  assert.equal(before.get(process.pid)?.name, 'main');
  const until = Date.now() + 300;
  let spin = 0;
  while (Date.now() < until) spin++;
  assert.ok(spin > 0);
  const after = threadCpuSeconds(process.pid);
  const grew = (after.get(process.pid)?.cpu ?? 0) - (before.get(process.pid)?.cpu ?? 0);
  // 300 ms of busy loop; the clock ticks at 10 ms, and a shared machine may take some of it away.
  assert.ok(grew >= 0.1, `main thread CPU grew by ${grew} s`);
  assert.deepEqual(threadCpuSeconds(2 ** 22 + 1), new Map(), 'no such process: no threads');
});

test('blockCost gives each thread its CPU per run, busiest first', () => {
  const snapshot = (main: number, other: number, bare: number): CostSnapshot => ({
    cpu: { server: 0, product: [main + other], bare },
    threads: {
      product: new Map([
        [100, { name: 'main', cpu: main }],
        [101, { name: 'node', cpu: other }],
      ]),
      bare: new Map([[200, { name: 'main', cpu: bare }]]),
    },
    counts: new Map(),
  });
  const cost = blockCost(snapshot(1, 1, 5), snapshot(3, 5, 9), 100, 'project');
  assert.deepEqual(cost.threads, [
    { name: 'node', cpu: 0.04 },
    { name: 'main', cpu: 0.02 },
  ]);
  assert.equal(formatThreads(cost), 'CPU per run by thread (ms): node 40.0, main 20.0');
  assert.deepEqual(blockCost(snapshot(1, 1, 5), snapshot(3, 5, 9), 100, 'bare').threads, [{ name: 'main', cpu: 0.04 }]);
});
