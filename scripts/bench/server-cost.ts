/**
 * What a block cost the machine, per closed run: CPU seconds of the dev server, the product's process(es) and the bare
 * worker (from /proc), and the dev server's own request counts by operation (its Prometheus `/metrics`, served with
 * `--metrics-port`): persistence requests (database reads and writes) and frontend requests. Printed per block, so
 * the bare and the project side of the same run can be compared operation by operation.
 */
import { cpuSeconds, threadCpuSeconds } from '../lib/proc';

export interface CostSnapshot {
  /** `product`: each of the product's processes, in the order of `CostSources.productPids`. */
  cpu: { server: number; product: number[]; bare: number };
  /** CPU seconds by thread of the product's first process and of the bare worker (where the time goes inside them). */
  threads: { product: Map<number, { name: string; cpu: number }>; bare: Map<number, { name: string; cpu: number }> };
  /** `persistence:<service>.<operation>` and `frontend:<operation>` counters, summed over every other label. */
  counts: Map<string, number>;
}

export interface CostSources {
  serverPid: number | null;
  serverMetricsUrl: string | null;
  /** The product's processes: one (`start`), or the worker and the HTTP app (`--roles split`); their CPU is summed. */
  productPids: number[];
  barePid: number;
}

const COUNTERS: [metric: string, prefix: string][] = [
  ['persistence_requests', 'persistence'],
  ['service_requests', 'frontend'],
];

async function scrape(url: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
    for (const line of text.split('\n')) {
      for (const [metric, prefix] of COUNTERS) {
        if (!line.startsWith(`${metric}{`)) continue;
        if (prefix === 'frontend' && !line.includes('service_name="frontend"')) continue;
        const op = /operation="([^"]+)"/.exec(line)?.[1];
        const value = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (!op || !Number.isFinite(value)) continue;
        const service = prefix === 'persistence' ? `${/service_name="([^"]+)"/.exec(line)?.[1] ?? '?'}.` : '';
        const key = `${prefix}:${service}${op}`;
        counts.set(key, (counts.get(key) ?? 0) + value);
      }
    }
  } catch {
    // No metrics: CPU figures only.
  }
  return counts;
}

export async function costSnapshot(sources: CostSources): Promise<CostSnapshot> {
  return {
    cpu: {
      server: sources.serverPid === null ? NaN : cpuSeconds(sources.serverPid),
      product: sources.productPids.map((pid) => cpuSeconds(pid)),
      bare: cpuSeconds(sources.barePid),
    },
    threads: {
      product:
        sources.productPids[0] === undefined ? new Map<number, { name: string; cpu: number }>() : threadCpuSeconds(sources.productPids[0]),
      bare: threadCpuSeconds(sources.barePid),
    },
    counts: sources.serverMetricsUrl ? await scrape(sources.serverMetricsUrl) : new Map<string, number>(),
  };
}

export interface BlockCost {
  runs: number;
  /** CPU seconds per closed run: the dev server, and the side's own process (product or bare worker). */
  serverCpu: number;
  sideCpu: number;
  /** The project's CPU per run by process: one entry in one process; worker, HTTP app with `--roles split`. */
  sideParts: number[];
  /** Requests per closed run by `persistence:<op>` / `frontend:<op>`, largest first. */
  perRun: [string, number][];
  persistencePerRun: number;
  /**
   * The side's busiest threads, CPU seconds per run, largest first (the product's first process): `main` is the
   * process's main thread (HTTP app, activities, the SDK's worker loop); the SDK runs workflows in threads of their
   * own (one per worker), its Rust core in `tokio-runtime-w` threads; V8's garbage collector and libuv have theirs.
   */
  threads: { name: string; cpu: number }[];
}

export function blockCost(before: CostSnapshot, after: CostSnapshot, runs: number, side: 'bare' | 'project'): BlockCost {
  const perRun: [string, number][] = [];
  for (const [key, value] of after.counts) {
    const d = value - (before.counts.get(key) ?? 0);
    if (d > 0) perRun.push([key, d / Math.max(runs, 1)]);
  }
  perRun.sort((a, b) => b[1] - a[1]);
  const n = Math.max(runs, 1);
  const sideParts = side === 'bare' ? [] : after.cpu.product.map((cpu, i) => (cpu - (before.cpu.product[i] ?? 0)) / n);
  const who = side === 'bare' ? 'bare' : 'product';
  const threads: { name: string; cpu: number }[] = [];
  for (const [tid, t] of after.threads[who]) {
    const cpu = (t.cpu - (before.threads[who].get(tid)?.cpu ?? 0)) / n;
    if (cpu > 0) threads.push({ name: t.name, cpu });
  }
  threads.sort((a, b) => b.cpu - a.cpu);
  return {
    runs,
    threads,
    serverCpu: (after.cpu.server - before.cpu.server) / n,
    sideCpu: side === 'bare' ? (after.cpu.bare - before.cpu.bare) / n : sideParts.reduce((sum, cpu) => sum + cpu, 0),
    sideParts,
    perRun,
    persistencePerRun: perRun.filter(([k]) => k.startsWith('persistence:')).reduce((s, [, v]) => s + v, 0),
  };
}

export function formatCost(c: BlockCost, top = 12): string {
  const ops = c.perRun
    .slice(0, top)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
  return (
    `CPU per run: server ${c.serverCpu.toFixed(3)} s, own process ${c.sideCpu.toFixed(3)} s` +
    `${c.sideParts.length === 2 ? ` (worker ${c.sideParts[0]?.toFixed(3)} s, HTTP app ${c.sideParts[1]?.toFixed(3)} s)` : ''}; ` +
    `persistence requests per run ${c.persistencePerRun.toFixed(1)}${ops ? `; top: ${ops}` : ''}`
  );
}

/** The busiest threads of the side's process, milliseconds of CPU per run. */
export function formatThreads(c: BlockCost, top = 8): string {
  if (c.threads.length === 0) return 'CPU per run by thread: n/a';
  return `CPU per run by thread (ms): ${c.threads
    .slice(0, top)
    .map((t) => `${t.name} ${(t.cpu * 1000).toFixed(1)}`)
    .join(', ')}`;
}
