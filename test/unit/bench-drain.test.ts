/**
 * The bench's longest stall (scripts/bench/observe.ts): the longest time with runs open and the closed count
 * unchanged, counted from the end of sending (the target's "after any burst"), or from the first close as well; and
 * when the drain first held.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Client } from '@temporalio/client';
import { firstDrained, longestStall, watchDrain, type DrainSample } from '../../scripts/bench/observe';

/** Samples every half second from t = 0: open and closed counts as given, nothing more expected. */
const samples = (rows: [open: number, closed: number][], expected = 0): DrainSample[] =>
  rows.map(([open, closed], i) => ({ t: i / 2, open, closed, expected }));

test('a stall during the burst counts from the first close, not after it; one after the burst counts in both', () => {
  // Sending ends at 2.5 s. Closes stop from 0.5 s to 2.0 s (1.5 s, during the burst), then from 3.0 s to 4.0 s (1.0 s).
  const drain = samples([
    [3, 0],
    [3, 1],
    [4, 1],
    [5, 1],
    [5, 1],
    [4, 2],
    [3, 3],
    [2, 3],
    [2, 3],
    [1, 4],
    [0, 5],
  ]);
  assert.equal(longestStall(drain, 2.5, true), 1.5);
  assert.equal(longestStall(drain, 2.5, false), 1.0);
});

test('fewer runs closed than expected is work left, with no run open: the backlog waits in the case indexes', () => {
  const drain = samples(
    [
      [1, 0],
      [0, 1],
      [0, 1],
      [0, 1],
      [0, 1],
      [1, 1],
      [0, 2],
    ],
    2,
  );
  assert.equal(longestStall(drain, 0, false), 2.0);
});

test('no run open and none expected is no stall, however long nothing closes', () => {
  const drain = samples([
    [1, 0],
    [0, 1],
    [0, 1],
    [0, 1],
    [0, 1],
  ]);
  assert.equal(longestStall(drain, 0, true), 0);
  assert.equal(longestStall(drain, 0, false), 0);
});

test('the drain dates from the first sample with no run open and every expected run closed, judged on the last', () => {
  // The runs have all closed by 1.5 s; the bench learns how many to expect (5) only later, from the status links.
  const drain = samples([
    [3, 0],
    [2, 3],
    [1, 4],
    [0, 5],
    [0, 5],
    [0, 5],
  ]);
  assert.equal(firstDrained(drain, 5), 1.5);
  // Still short of what is expected: not drained, whatever an earlier sample said.
  assert.equal(firstDrained(drain, 6), null);
  assert.equal(firstDrained([...drain, { t: 3, open: 1, closed: 5, expected: 5 }], 5), null);
  assert.equal(firstDrained([], 0), null);
});

test(
  'the storm reads its status links once a sample shows the runs settled; the drain waits for what they find',
  { timeout: 10_000 },
  async () => {
    // Visibility as the bench sees it: open and closed counts of successive samples (the last one repeats).
    const counts: [open: number, closed: number][] = [
      [4, 0],
      [2, 2],
      [0, 4],
      [0, 4],
      [1, 4],
      [0, 5],
    ];
    let taken = 0;
    const visibility = {
      workflow: {
        count: (query: string) => {
          const [open, closed] = counts[Math.min(taken, counts.length - 1)] as [number, number];
          if (!query.includes("ExecutionStatus = 'Running'")) taken++;
          return Promise.resolve({ count: query.includes("ExecutionStatus = 'Running'") ? open : closed });
        },
      },
    } as unknown as Client;
    // What runStorm does with --status-reads after: wait for a settled sample, read (a join opened a fifth case), then
    // say the expected count is final.
    let expected = 4;
    let known = false;
    const seen: DrainSample[] = [];
    let settle = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const drain = watchDrain({
      client: visibility,
      query: 'WorkflowType = "x"',
      t0: performance.now(),
      sampleMs: 5,
      sendingDone: () => true,
      expectedKnown: () => known,
      expectedClosed: () => expected,
      timeoutMs: 5_000,
      onSample: (sample) => {
        seen.push(sample);
        if (sample.open === 0 && sample.closed >= sample.expected) settle();
      },
    });
    await settled;
    assert.equal(seen.length, 3, 'settled at the third sample: none open, the 4 planned cases closed');
    expected = 5;
    known = true;
    const result = await drain;
    assert.deepEqual(
      result.samples.map((x) => [x.open, x.closed]),
      seen.map((x) => [x.open, x.closed]),
      'every sample was passed to onSample',
    );
    // Not the settled sample: the fifth case (found by the reads) closed later, and the drain waited for it.
    assert.equal(result.drainedAt, result.samples.find((x) => x.open === 0 && x.closed >= 5)?.t);
    assert.ok(result.drainedAt > (seen[2]?.t ?? Infinity));
  },
);
