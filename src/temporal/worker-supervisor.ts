/**
 * The process's workers, watched (src/temporal/poll-watch.ts) and, when one is stuck, replaced in place.
 *
 * A stuck worker holds its workflow-task slots inside the SDK and never gives them back; nothing in the process can
 * free them. What does help is a new worker for the same task queue: the server hands the stuck worker's tasks to it
 * once their timeouts pass, and every other task at once. Replacing it in the process, as the embedded dev server is
 * restarted in the process (docs/operations/dev-server.md), keeps `npm start` going where no supervisor runs it.
 *
 * - The new worker gets a connection of its own: the SDK allows one worker per task queue and connection, and the
 *   stuck one keeps its registration for as long as it holds its slots. It is started before the stuck one is told
 *   to stop, so the queue is never without a poller, and it has an identity of its own (`<identity>/replacement-N`),
 *   so the watch and the Web UI can tell them apart.
 * - The stuck worker is asked to shut down and then left alone: a stop later does not wait for it.
 * - A budget: `replacementsPerHour` per task queue. Past it (or when a replacement cannot be made) the supervisor fails
 *   with the `WorkerStuckError`, and the process stops for its own supervisor to start it again, as before the
 *   replacement existed. A fault that comes back at once is then not hidden behind replacements that each leak a stuck
 *   worker's memory.
 */
import { PollWatch, WorkerStuckError, type DescribeQueue, type PollCheck } from './poll-watch';

/** What the supervisor needs of a worker (the SDK's `Worker`). */
export interface SupervisedWorker {
  readonly options: { identity: string; taskQueue: string };
  getState(): string;
  run(): Promise<void>;
  shutdown(): void;
}

export interface WorkerLease {
  worker: SupervisedWorker;
  /** Frees what only this worker uses (its own connection), once it has stopped. */
  release?: () => Promise<void>;
}

/** A new worker for `taskQueue` with `identity`, on a connection of its own. */
export type ReplaceWorker = (taskQueue: string, identity: string) => Promise<WorkerLease>;

export interface Replacement {
  taskQueue: string;
  stuckIdentity: string;
  identity: string;
  quietForMs: number;
  /** Its poll time stamp stood still, or its queue starved while it polled now and then (src/temporal/poll-watch.ts). */
  reason: StuckReason;
  /** Replacements of this task queue's worker within the last hour, this one included. */
  withinHour: number;
}

export interface WorkerSupervisorOptions {
  describe: DescribeQueue;
  /**
   * A running worker whose poll time stamp has not moved for this long, or whose queue has starved (poll-watch.ts), is
   * stuck; 0: not watched.
   */
  stuckAfterMs: number;
  /** Replacements of one task queue's worker allowed within an hour; 0: the first stuck worker fails the supervisor. */
  replacementsPerHour: number;
  replace: ReplaceWorker;
  onReplaced?: (replacement: Replacement) => void;
  /** A retired worker's run ended with an error (it was stuck; this is logged, not fatal). */
  onRetiredError?: (taskQueue: string, identity: string, err: unknown) => void;
  intervalMs?: number;
  now?: () => number;
}

type StuckReason = NonNullable<PollCheck['reason']>;

const HOUR_MS = 3_600_000;

interface Current {
  lease: WorkerLease;
  run: Promise<void>;
  watch: PollWatch;
}

export class WorkerSupervisor {
  /** Rejects with the first failure of a current worker, or a stuck worker past the budget; resolves once all stopped. */
  readonly done: Promise<void>;
  private readonly current: Current[] = [];
  /** Current workers whose run has ended without an error. */
  private readonly stopped = new Set<Current>();
  private readonly replacedAt = new Map<string, number[]>();
  private readonly replacedCount = new Map<string, number>();
  private readonly baseIdentity = new Map<string, string>();
  private fail!: (err: unknown) => void;
  private settleIfAllStopped!: () => void;
  private ended = false;
  private timer: NodeJS.Timeout | null = null;
  private checking = false;
  private readonly now: () => number;

  constructor(
    initial: WorkerLease[],
    private readonly options: WorkerSupervisorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.done = new Promise<void>((resolve, reject) => {
      this.fail = (err) => {
        if (this.ended) return;
        this.ended = true;
        this.clearTimer();
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      this.settleIfAllStopped = () => {
        if (this.current.every((c) => this.stopped.has(c))) resolve();
      };
    });
    // A caller that only awaits `done` later must not see an unhandled rejection in between.
    this.done.catch(() => undefined);
    for (const lease of initial) {
      this.baseIdentity.set(lease.worker.options.taskQueue, lease.worker.options.identity);
      this.adopt(lease);
    }
  }

  /** The workers that currently serve their task queues (a replaced worker is no longer among them). */
  workers(): SupervisedWorker[] {
    return this.current.map((c) => c.lease.worker);
  }

  /** Starts the watch: a check each `intervalMs` (a quarter of the limit, between 1 and 30 s). */
  watch(): void {
    const { stuckAfterMs } = this.options;
    if (stuckAfterMs === 0 || this.timer || this.ended) return;
    const intervalMs = this.options.intervalMs ?? Math.min(30_000, Math.max(1_000, Math.floor(stuckAfterMs / 4)));
    this.timer = setInterval(() => {
      if (this.checking || this.ended) return;
      this.checking = true;
      void this.check().finally(() => {
        this.checking = false;
      });
    }, intervalMs);
  }

  /**
   * Stops the watch and shuts the current workers down; resolves true once they have stopped, false if some had not
   * after `waitMs`. A replaced worker was told to stop when it was replaced and is not waited for: a stuck worker may
   * never finish its drain.
   */
  async stop(waitMs: number): Promise<boolean> {
    this.ended = true;
    this.clearTimer();
    for (const { lease } of this.current) if (lease.worker.getState() === 'RUNNING') lease.worker.shutdown();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.allSettled(this.current.map((w) => w.run)).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
      }),
    ]);
    clearTimeout(timer);
    return drained;
  }

  private adopt(lease: WorkerLease): void {
    const { worker } = lease;
    const run = worker.run();
    const entry: Current = {
      lease,
      run,
      watch: new PollWatch(this.options.describe, worker.options.identity, this.options.stuckAfterMs, this.now),
    };
    this.current.push(entry);
    run.then(
      () => {
        this.stopped.add(entry);
        if (this.current.includes(entry)) this.settleIfAllStopped();
      },
      (err: unknown) => {
        if (this.current.includes(entry)) this.fail(err);
      },
    );
  }

  private async check(): Promise<void> {
    for (const entry of [...this.current]) {
      if (this.ended) return;
      const { worker } = entry.lease;
      if (worker.getState() !== 'RUNNING') continue;
      const { state, quietForMs, reason = 'not polling' } = await entry.watch.check(worker.options.taskQueue);
      if (state !== 'stuck' || this.ended) continue;
      await this.replace(entry, quietForMs, reason);
    }
  }

  private async replace(entry: Current, quietForMs: number, reason: StuckReason): Promise<void> {
    const { taskQueue, identity: stuckIdentity } = entry.lease.worker.options;
    const stuck = new WorkerStuckError(taskQueue, stuckIdentity, quietForMs, undefined, reason);
    const now = this.now();
    const recent = (this.replacedAt.get(taskQueue) ?? []).filter((t) => now - t < HOUR_MS);
    if (recent.length >= this.options.replacementsPerHour) {
      this.fail(stuck);
      return;
    }
    const n = (this.replacedCount.get(taskQueue) ?? 0) + 1;
    const identity = `${this.baseIdentity.get(taskQueue) ?? stuckIdentity}/replacement-${n}`;
    let fresh: WorkerLease;
    try {
      fresh = await this.options.replace(taskQueue, identity);
    } catch (err) {
      this.fail(new WorkerStuckError(taskQueue, stuckIdentity, quietForMs, err, reason));
      return;
    }
    if (this.ended) {
      // A stop began while the replacement was being made: it is not needed.
      await fresh.release?.().catch(() => undefined);
      return;
    }
    this.replacedCount.set(taskQueue, n);
    this.replacedAt.set(taskQueue, [...recent, now]);
    this.current.splice(this.current.indexOf(entry), 1);
    this.adopt(fresh);
    // Started first, then the stuck one is told to stop: the queue always has a poller.
    const { lease, run } = entry;
    run.then(
      () => lease.release?.().catch(() => undefined),
      (err: unknown) => this.options.onRetiredError?.(taskQueue, stuckIdentity, err),
    );
    if (lease.worker.getState() === 'RUNNING') lease.worker.shutdown();
    this.options.onReplaced?.({ taskQueue, stuckIdentity, identity, quietForMs, reason, withinHour: recent.length + 1 });
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
