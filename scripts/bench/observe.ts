/**
 * What the bench observes besides its own answers: open and closed runs in Temporal's visibility (the drain curve),
 * sampled histories (events, bytes, workflow-task timeouts), a process's memory, and warning lines in a log.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SA } from '../../src/contracts/search-attributes';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A visibility query over the runs of one block: a workflow type on a task queue, started since the block began. */
export function blockQuery(workflowType: string, taskQueue: string, since: Date): string {
  return `WorkflowType = '${workflowType}' AND TaskQueue = '${taskQueue}' AND StartTime >= '${since.toISOString()}'`;
}

export async function countRuns(client: Client, query: string): Promise<number> {
  return (await client.workflow.count(query)).count;
}

export interface DrainSample {
  /** Seconds since the block's first send. */
  t: number;
  open: number;
  closed: number;
  /** Runs expected to close by then (`DrainOptions.expectedClosed`): more than closed means work is left. */
  expected: number;
}

export interface DrainResult {
  /** Seconds from the block's first send until no run was open and every expected run had closed; null: timed out. */
  drainedAt: number | null;
  samples: DrainSample[];
  /** The longest time (s) with work left (runs open, or fewer closed than expected) and none closing, counted from the first close or the end of sending. */
  longestStall: number;
  /** The same, counted from the end of sending only: the drain after the burst, which the target is about. */
  longestStallAfterSending: number;
  /** Open runs that were waiting for a human at the last sample (counted as done: see `DrainOptions.waitingQuery`). */
  waiting: number;
}

export interface DrainOptions {
  client: Client;
  /** blockQuery(...) of the runs to watch. */
  query: string;
  /** performance.now() of the block's first send. */
  t0: number;
  sampleMs: number;
  sendingDone: () => boolean;
  /**
   * Whether `expectedClosed` is final: the storm learns the cases of its "case pending" answers at their status links
   * after sending. The drain is judged only then, and dates from the first sample at which it held (the bench's reads
   * are not the product's work). Default: once sending is done.
   */
  expectedKnown?: () => boolean;
  /** How many closed runs mean "drained" (the runs the senders were told exist). */
  expectedClosed: () => number;
  /** Measured from the end of sending. */
  timeoutMs: number;
  /**
   * A condition (ANDed to the query) for open runs whose automated work is done: a run the playbook escalated waits
   * for a human, which no backlog drain includes. Such runs count as closed; none when absent.
   */
  waitingQuery?: string;
  /** Called with each sample as it is taken. */
  onSample?: (sample: DrainSample) => void;
}

/** Samples open and closed runs until the backlog has drained (after sending ended) or the timeout passes. */
export async function watchDrain(options: DrainOptions): Promise<DrainResult> {
  const samples: DrainSample[] = [];
  let sentAt: number | null = null;
  let waitingNow = 0;
  for (;;) {
    let counts: [number, number] | null = null;
    try {
      const [running, done, waiting] = await Promise.all([
        countRuns(options.client, `${options.query} AND ExecutionStatus = 'Running'`),
        countRuns(options.client, `${options.query} AND ExecutionStatus != 'Running'`),
        options.waitingQuery
          ? countRuns(options.client, `${options.query} AND ExecutionStatus = 'Running' AND ${options.waitingQuery}`)
          : 0,
      ]);
      counts = [running - waiting, done + waiting];
      waitingNow = waiting;
    } catch {
      // An overloaded server may miss a visibility deadline: no sample this time.
    }
    const now = performance.now();
    const [open, closed] = counts ?? [NaN, NaN];
    if (counts) {
      const sample = { t: (now - options.t0) / 1000, open, closed, expected: options.expectedClosed() };
      samples.push(sample);
      options.onSample?.(sample);
    }
    if (options.sendingDone()) {
      sentAt ??= now;
      const ended = (sentAt - options.t0) / 1000;
      const stalls = () => ({
        longestStall: longestStall(samples, ended, true),
        longestStallAfterSending: longestStall(samples, ended, false),
      });
      const drainedAt = (options.expectedKnown ?? options.sendingDone)() ? firstDrained(samples, options.expectedClosed()) : null;
      if (drainedAt !== null) return { drainedAt, samples, ...stalls(), waiting: waitingNow };
      if (now - sentAt > options.timeoutMs) return { drainedAt: null, samples, ...stalls(), waiting: waitingNow };
    }
    await sleep(Math.max(0, options.sampleMs - (performance.now() - now)));
  }
}

/**
 * When the drain first held: the first sample with no run open and at least `expected` closed (closed runs only
 * grow). Null when the last sample does not hold it: the drain is judged on the latest counts.
 */
export function firstDrained(samples: DrainSample[], expected: number): number | null {
  const drained = (x: DrainSample) => x.open === 0 && x.closed >= expected;
  const last = samples[samples.length - 1];
  if (!last || !drained(last)) return null;
  return (samples.find(drained) as DrainSample).t;
}

/**
 * The longest time with work left and the closed count unchanged, from the first close (`fromFirstClose`, sending
 * included) or from the end of sending.
 */
export function longestStall(samples: DrainSample[], sendingEnded: number, fromFirstClose: boolean): number {
  let longest = 0;
  let since: number | null = null;
  let started = false;
  for (let i = 1; i < samples.length; i++) {
    const prev = samples[i - 1] as DrainSample;
    const cur = samples[i] as DrainSample;
    started ||= (fromFirstClose && prev.closed > 0) || prev.t >= sendingEnded;
    if (!started) continue;
    // Work is left while runs are open, or while fewer have closed than are expected: the project's backlog waits in
    // its case indexes, as alerts whose runs have not started, so a stuck ingest worker leaves no run open.
    if ((cur.open > 0 || cur.closed < cur.expected) && cur.closed === prev.closed) {
      since ??= prev.t;
      longest = Math.max(longest, cur.t - since);
    } else since = null;
  }
  return longest;
}

/** The drain curve as text: open runs per second (or per k seconds for long drains), 15 points a line. */
export function formatCurve(samples: DrainSample[], maxPoints = 90): string {
  if (samples.length === 0) return '  (no samples)';
  const last = samples[samples.length - 1] as DrainSample;
  const step = Math.max(1, Math.ceil(last.t / maxPoints));
  const points: string[] = [];
  let bucket = -1;
  for (const s of samples) {
    // The first sample of each step-second bucket, labelled with the bucket's start.
    const b = Math.floor(s.t / step);
    if (b === bucket) continue;
    bucket = b;
    points.push(`${b * step}s:${s.open}`);
  }
  const lines: string[] = [];
  for (let i = 0; i < points.length; i += 15) lines.push(`  ${points.slice(i, i + 15).join(' ')}`);
  return `  open runs (t:open, every ${step} s; closed at the end: ${last.closed})\n${lines.join('\n')}`;
}

/** Terminates the runs a query finds still open (a block that did not drain), so the next block starts clean. */
export async function terminateOpen(client: Client, query: string, reason: string): Promise<number> {
  let terminated = 0;
  for (const run of await listRuns(client, `${query} AND ExecutionStatus = 'Running'`)) {
    try {
      await client.workflow.getHandle(run.workflowId).terminate(reason);
      terminated++;
    } catch {
      // Closed meanwhile.
    }
  }
  return terminated;
}

export interface RunInfo {
  workflowId: string;
  /** The AlertId search attribute: the alert that opened the run. */
  alertId: string | null;
  running: boolean;
  /** When the run started (ms since the epoch, the server's clock: the bench's on loopback). */
  startTime: number;
}

export async function listRuns(client: Client, query: string): Promise<RunInfo[]> {
  const runs: RunInfo[] = [];
  for await (const info of client.workflow.list({ query, pageSize: 1000 })) {
    runs.push({
      workflowId: info.workflowId,
      alertId: info.typedSearchAttributes.get(SA.alertId) ?? null,
      running: info.status.name === 'RUNNING',
      startTime: info.startTime.getTime(),
    });
  }
  return runs;
}

export interface HistorySample {
  sampled: number;
  eventsAvg: number;
  eventsMax: number;
  bytesAvg: number;
  bytesMax: number;
  workflowTaskTimeouts: number;
  workflowTaskFailures: number;
}

const { EventType } = temporal.api.enums.v1;

/** Fetches up to `n` histories (evenly spread over `workflowIds`) and counts events, bytes and workflow-task faults. */
export async function sampleHistories(client: Client, workflowIds: string[], n: number): Promise<HistorySample> {
  const step = Math.max(1, workflowIds.length / Math.max(1, n));
  const picked: string[] = [];
  for (let i = 0; i < workflowIds.length && picked.length < n; i += step) picked.push(workflowIds[Math.floor(i)] as string);
  const events: number[] = [];
  const bytes: number[] = [];
  let timeouts = 0;
  let failures = 0;
  for (const id of picked) {
    let history: temporal.api.history.v1.IHistory;
    try {
      history = await client.workflow.getHandle(id).fetchHistory();
    } catch {
      continue; // Not countable now (an overloaded server); the sample is smaller.
    }
    const list = history.events ?? [];
    events.push(list.length);
    bytes.push(temporal.api.history.v1.History.encode(history).finish().length);
    for (const e of list) {
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) timeouts++;
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) failures++;
    }
  }
  const avg = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
  return {
    sampled: events.length,
    eventsAvg: avg(events),
    eventsMax: events.length ? Math.max(...events) : NaN,
    bytesAvg: avg(bytes),
    bytesMax: bytes.length ? Math.max(...bytes) : NaN,
    workflowTaskTimeouts: timeouts,
    workflowTaskFailures: failures,
  };
}

/**
 * The workflow tasks of the given workflows as `[started, completed]` intervals (ms since the epoch, the server's
 * clock), read from their histories, `concurrency` at a time. A history that cannot be read now is left out.
 */
export async function workflowTaskSpans(client: Client, workflowIds: string[], concurrency = 8): Promise<[number, number][]> {
  const spans: [number, number][] = [];
  const time = (e: temporal.api.history.v1.IHistoryEvent) => optionalTsToMs(e.eventTime) ?? NaN;
  let next = 0;
  const worker = async () => {
    while (next < workflowIds.length) {
      const id = workflowIds[next++] as string;
      let history: temporal.api.history.v1.IHistory;
      try {
        history = await client.workflow.getHandle(id).fetchHistory();
      } catch {
        continue;
      }
      let started = NaN;
      for (const e of history.events ?? []) {
        if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) started = time(e);
        else if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && Number.isFinite(started)) {
          spans.push([started, time(e)]);
          started = NaN;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return spans;
}

export interface ProcessMemory {
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size since the process started, bytes. */
  peak: number;
}

/** From /proc (Linux): NaN elsewhere. */
export function processMemory(pid: number): ProcessMemory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** Copies a child's output to a file and counts lines that matter to the bench. */
export class LogTap {
  /** Lines naming a workflow task over its deadline (the SDK's TMPRL1104) or a timed-out workflow task. */
  workflowTaskWarnings = 0;
  errors = 0;
  /** Called with every complete line. */
  onLine: ((line: string) => void) | null = null;
  private readonly file: WriteStream;

  constructor(file: string) {
    this.file = createWriteStream(file, { flags: 'a' });
  }

  attach(stream: Readable | null): void {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      this.file.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        this.onLine?.(line);
        if (/TMPRL1104|WorkflowTaskTimedOut|Workflow task timed out/i.test(line)) this.workflowTaskWarnings++;
        if (/"level":"(error|fatal)"|^ERROR /.test(line)) this.errors++;
      }
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.file.end(resolve));
  }
}
