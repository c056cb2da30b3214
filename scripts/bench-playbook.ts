/**
 * Playbook benchmark: runs the T1567.002 workflow end to end on the real dev server with the real activities and
 * file connectors, and prints throughput, latency percentiles and the process's memory. Figures, not pass/fail:
 * these machines are shared and noisy. Bounded: a fixed number of runs, all on 127.0.0.1.
 *
 *   npm run bench:playbook -- [--runs 200] [--escalated 50] [--concurrency 20]
 */
import { parseArgs } from 'node:util';
import { exfilToCloudStorage } from '../workflows';
import { playbookInput } from '../src/temporal/playbook-runs';
import { benignAlert, escalatingAlert, unique } from './lib/fixtures';
import { decideWhenAsked, startServerWithWorker } from './lib/temporal';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    escalated: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '20' },
  },
});

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function main() {
  const runs = Number(values.runs);
  const escalated = Number(values.escalated);
  const concurrency = Number(values.concurrency);
  const { env, config, stop } = await startServerWithWorker('bench');
  try {
    await measureAll(env, config, runs, escalated, concurrency);
  } finally {
    // The dev server goes with the script, also when a run fails.
    await stop();
  }
}

async function measureAll(
  env: Awaited<ReturnType<typeof startServerWithWorker>>['env'],
  config: Awaited<ReturnType<typeof startServerWithWorker>>['config'],
  runs: number,
  escalated: number,
  concurrency: number,
): Promise<void> {
  const rssBefore = process.memoryUsage().rss;

  const measure = async (label: string, count: number, one: () => Promise<void>) => {
    const latencies: number[] = [];
    const started = performance.now();
    await pool(
      Array.from({ length: count }, (_, i) => i),
      concurrency,
      async () => {
        const t0 = performance.now();
        await one();
        latencies.push(performance.now() - t0);
      },
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(
      `${label.padEnd(40)} ${String(count).padStart(5)} runs  ${(count / seconds).toFixed(1).padStart(7)} runs/s  ` +
        `p50 ${percentile(latencies, 50).toFixed(0).padStart(6)} ms  p99 ${percentile(latencies, 99).toFixed(0).padStart(6)} ms`,
    );
  };

  console.log(`T1567.002 playbook benchmark: concurrency ${concurrency}, real dev server, file connectors, dry-run containment`);
  await measure('benign (start -> report)', runs, async () => {
    const handle = await env.client.workflow.start(exfilToCloudStorage, {
      taskQueue: config.temporal.taskQueue,
      workflowId: unique('bench-benign'),
      args: [playbookInput(config, benignAlert())],
    });
    await handle.result();
  });
  await measure('escalated (start -> approve -> contain)', escalated, async () => {
    const handle = await env.client.workflow.start(exfilToCloudStorage, {
      taskQueue: config.temporal.taskQueue,
      workflowId: unique('bench-esc'),
      args: [playbookInput(config, escalatingAlert())],
    });
    await decideWhenAsked(env.client, handle, 'approve');
    await handle.result();
  });
  const mem = process.memoryUsage();
  console.log(
    `memory (bench + worker process): rss ${mib(mem.rss)} (was ${mib(rssBefore)} before the runs), heap used ${mib(mem.heapUsed)}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
