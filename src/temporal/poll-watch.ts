/**
 * Whether a worker still takes work from its task queue, as the Temporal server sees it.
 *
 * A worker whose workflow-task slots are all held and never given back stops polling, yet to itself it is RUNNING and
 * it logs nothing. Seen in 10,000-alert storms followed by a flood of status queries (2026-12-01 with 16 and with 8
 * workflow-task slots, 2026-12-02 with 8): the ingest worker held all its slots with its cache full, its pollers were
 * at 0 for minutes (the SDK's own metrics), every case index's query timed out, and alerts recorded by signal waited.
 *
 * Two signs, either of which makes the worker stuck:
 * - **Not polling.** The server's `lastAccessTime` of this worker's poller, compared between checks (not with the
 *   local clock, which may differ from the server's): a poller that is alive polls again at least once a long poll (a
 *   minute), so the time stamp moves; one that has not moved, or is missing, for `stuckAfterMs` of local time is
 *   stuck.
 * - **Starved.** On 2026-12-02 the stuck worker still polled now and then (a slot came free about once a minute and
 *   brought one task), so its time stamp moved while 2,533 tasks waited: 8.5 minutes passed before the first sign
 *   held. So a queue whose oldest task has waited `stuckAfterMs` while the server dispatches less than one task every
 *   ten seconds, at every check for half that limit, is starved. A worker that works dispatches far more: each of its
 *   slots finishes a task within the workflow task timeout (10 s). A server that reports no statistics (an older
 *   one) leaves only the first sign.
 *
 * A server that does not answer says nothing about the worker ('unknown'; availability is watched elsewhere), and the
 * counts start again once it answers: after an outage the worker needs a moment to poll again.
 */
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';

export interface QueuePoller {
  identity: string;
  /** The server's time of this poller's last poll (ms since the epoch), or null when it gave none. */
  lastAccessTime: number | null;
}

/** The server's statistics of a task queue's workflow tasks (DescribeTaskQueue with `reportStats`). */
export interface QueueBacklog {
  /** Approximate number of tasks waiting. */
  count: number;
  /** How long the oldest waiting task has waited (ms). */
  ageMs: number;
  /** Tasks handed to workers per second, recently. */
  dispatchRate: number;
}

export interface QueueView {
  /** The pollers the server has seen on the queue's workflow tasks. */
  pollers: QueuePoller[];
  /** Null when the server reports no statistics. */
  backlog: QueueBacklog | null;
}

export type DescribeQueue = (taskQueue: string) => Promise<QueueView>;

/** Below this many tasks dispatched per second, with a backlog as old as the limit, the queue is starved. */
const STARVED_DISPATCH_RATE = 0.1;

export interface PollCheck {
  state: 'polling' | 'stuck' | 'unknown';
  /** Why it is stuck: its poll time stamp stood still, or the queue starved while it polled now and then. */
  reason?: 'not polling' | 'starved';
  /** Local time since this worker's poll time stamp last moved (or since the watch began); when starved, how long the
   * queue has been starved. */
  quietForMs: number;
}

export class PollWatch {
  private readonly seen = new Map<string, { access: number | null; since: number; checkedAt: number; starvedSince: number | null }>();

  /**
   * `maxGapMs`: checks further apart than this (the process itself did not run: suspended, frozen, starved) start
   * the count again, since the worker could not poll either; the supervisor (worker-supervisor.ts) checks at least twice within it.
   */
  constructor(
    private readonly describe: DescribeQueue,
    private readonly identity: string,
    private readonly stuckAfterMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxGapMs = stuckAfterMs / 2,
  ) {}

  async check(taskQueue: string): Promise<PollCheck> {
    let view: QueueView;
    try {
      view = await this.describe(taskQueue);
    } catch {
      // Nor can the worker poll a server that does not answer: the count starts again once it does.
      this.seen.delete(taskQueue);
      return { state: 'unknown', quietForMs: 0 };
    }
    const access = view.pollers.find((p) => p.identity === this.identity)?.lastAccessTime ?? null;
    const now = this.now();
    let last = this.seen.get(taskQueue);
    // A time stamp that moved: it polled since the last check. Frozen or missing (the server forgets pollers after a
    // few minutes): still quiet since it last moved, or since the watch began.
    if (!last || now - last.checkedAt > this.maxGapMs) {
      last = { access, since: now, checkedAt: now, starvedSince: null };
      this.seen.set(taskQueue, last);
    } else if (access !== null && access !== last.access) {
      last.access = access;
      last.since = now;
    }
    last.checkedAt = now;
    const quietForMs = now - last.since;
    if (quietForMs >= this.stuckAfterMs) return { state: 'stuck', reason: 'not polling', quietForMs };
    const { backlog } = view;
    const starved =
      backlog !== null && backlog.count > 0 && backlog.ageMs >= this.stuckAfterMs && backlog.dispatchRate < STARVED_DISPATCH_RATE;
    last.starvedSince = starved ? (last.starvedSince ?? now) : null;
    if (last.starvedSince !== null && now - last.starvedSince >= this.stuckAfterMs / 2) {
      return { state: 'stuck', reason: 'starved', quietForMs: now - last.starvedSince };
    }
    return { state: 'polling', quietForMs };
  }
}

/** The pollers and statistics of a task queue's workflow tasks, from DescribeTaskQueue over the worker's own connection. */
export function describeWorkflowQueue(connection: NativeConnection, namespace: string, timeoutMs = 5_000): DescribeQueue {
  return async (taskQueue) => {
    const response = await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        reportStats: true,
      }),
    );
    const stats = response.stats;
    return {
      pollers: (response.pollers ?? []).map((p) => ({ identity: p.identity ?? '', lastAccessTime: optionalTsToMs(p.lastAccessTime) ?? null })),
      backlog: stats
        ? {
            count: Number(stats.approximateBacklogCount ?? 0),
            ageMs: optionalTsToMs(stats.approximateBacklogAge) ?? 0,
            dispatchRate: stats.tasksDispatchRate ?? 0,
          }
        : null,
    };
  };
}

/**
 * A worker that is running but has not polled its task queue for the watch's limit, or whose queue starved while it
 * polled now and then, and that could not be replaced (src/temporal/worker-supervisor.ts): the replacement budget was
 * spent, or making one failed (`cause`).
 */
export class WorkerStuckError extends Error {
  constructor(
    readonly taskQueue: string,
    readonly identity: string,
    readonly quietForMs: number,
    cause?: unknown,
    readonly reason: NonNullable<PollCheck['reason']> = 'not polling',
  ) {
    const secs = Math.round(quietForMs / 1000);
    super(
      `The worker on task queue ${taskQueue} (${identity}) is running but ` +
        (reason === 'starved'
          ? `its queue has starved for ${secs} s: tasks waiting since before then, almost none handed out`
          : `has not polled it for ${secs} s`) +
        ' (as the Temporal server sees it), as when its workflow-task slots are all held and never given back. Stopping, so it can be ' +
        'started again; the server gives the tasks it held to a live worker.',
      cause === undefined ? undefined : { cause },
    );
    this.name = 'WorkerStuckError';
  }
}
