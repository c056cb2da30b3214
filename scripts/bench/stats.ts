/** Figures: percentiles over client-side monotonic timings, formatting, and the final table. */

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}

/**
 * When in an open-loop block its slowest answers were sent: of the answers at or above `threshold` ms (`latencies[i]`
 * is alert i's, sent at i / rate seconds), how many fell in each `windowS`-second window of sending. Tells a slow
 * start (a cold process or server) from slowness spread through the block.
 */
export function slowByWindow(latencies: number[], rate: number, windowS: number, threshold: number): number[] {
  const windows = Math.max(1, Math.ceil(latencies.length / rate / windowS));
  const counts = new Array<number>(windows).fill(0);
  latencies.forEach((v, i) => {
    if (!(v >= threshold)) return;
    const w = Math.min(windows - 1, Math.floor(i / rate / windowS));
    counts[w] = (counts[w] ?? 0) + 1;
  });
  return counts;
}

/**
 * How long after its acknowledgement each run started (ms): `ackedAt` maps an alert ID to when its 2xx was read
 * (ms since the epoch), `runs` are the runs with the alert that opened each. A run whose alert has no ack time is left
 * out. For the webhook, whose 202 comes before its case index has routed the alert, this is the routing's lag.
 */
export function startedAfterAck(ackedAt: Map<string, number>, runs: { alertId: string | null; startTime: number }[]): number[] {
  const delays: number[] = [];
  for (const run of runs) {
    const acked = run.alertId === null ? undefined : ackedAt.get(run.alertId);
    if (acked !== undefined) delays.push(run.startTime - acked);
  }
  return delays;
}

/** How many of a set of intervals were in progress, as seconds at each count (the last key: that many or more). */
export interface InFlightProfile {
  /** Seconds from the first start to the last end. */
  span: number;
  /** `seconds[k]`: seconds with exactly k in progress; the last entry counts `seconds.length - 1` or more. */
  seconds: number[];
  /** The most in progress at once. */
  max: number;
}

/**
 * Time-weighted concurrency of `[start, end]` intervals (ms): from the first start to the last end, how long none,
 * one, two... were in progress. With the case indexes' workflow tasks as intervals it tells routing one alert at a
 * time (nearly all the span at 0 or 1) from routing several at once. An end at the same instant as another's start
 * counts as before it; an interval that ends before it starts is left out.
 */
export function inFlightProfile(intervals: [number, number][], buckets = 3): InFlightProfile {
  const valid = intervals.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && b >= a);
  const seconds = new Array<number>(buckets).fill(0);
  if (valid.length === 0) return { span: 0, seconds, max: 0 };
  const edges: [number, number][] = [];
  for (const [a, b] of valid) edges.push([a, 1], [b, -1]);
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let current = 0;
  let max = 0;
  let at = edges[0]?.[0] ?? 0;
  for (const [t, delta] of edges) {
    const k = Math.min(current, buckets - 1);
    seconds[k] = (seconds[k] ?? 0) + (t - at) / 1000;
    at = t;
    current += delta;
    max = Math.max(max, current);
  }
  return { span: ((edges[edges.length - 1]?.[0] ?? 0) - (edges[0]?.[0] ?? 0)) / 1000, seconds, max };
}

export const ms = (v: number) => (Number.isFinite(v) ? (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`) : 'n/a');
export const secs = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} s` : 'n/a');
export const num = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
export const mib = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : 'n/a');
export const ratio = (project: number, bare: number) =>
  Number.isFinite(project) && Number.isFinite(bare) && bare > 0 ? project / bare : NaN;

/** "lowest / median / highest" of a few figures (the median of an even count is the mean of the middle two). */
export function spread(values: number[], digits = 2): string {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return 'n/a';
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
  return `${num(sorted[0] ?? NaN, digits)} / ${num(median, digits)} / ${num(sorted[sorted.length - 1] ?? NaN, digits)}`;
}

export interface Row {
  scenario: string;
  figure: string;
  bare: string;
  project: string;
  ratio: string;
  target: string;
  /** PASS / MISS against the target, '' for figures without one. */
  verdict: '' | 'PASS' | 'MISS';
}

export const verdict = (ok: boolean | null): Row['verdict'] => (ok === null ? '' : ok ? 'PASS' : 'MISS');

export function markdownTable(rows: Row[]): string {
  const header = ['scenario', 'figure', 'bare', 'project', 'project/bare', 'target', 'verdict'];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${[r.scenario, r.figure, r.bare, r.project, r.ratio, r.target, r.verdict].join(' | ')} |`);
  return lines.join('\n');
}
