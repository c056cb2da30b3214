/**
 * Whether a worker still polls its task queue, as the Temporal server sees it.
 *
 * A worker whose workflow-task slots are all held and never given back stops polling, yet to itself it is RUNNING and
 * it logs nothing. Seen once (2026-12-01), in a 10,000-alert storm followed by a flood of status queries with 16
 * workflow-task slots per worker: the ingest worker held all 16, its pollers were at 0 for minutes (the SDK's own
 * metrics), every case index's query timed out, and alerts recorded by signal would have waited for a restart to be
 * routed. The server's list of the queue's pollers shows it: the worker's identity stops coming back.
 *
 * The watch compares the server's `lastAccessTime` of this worker's poller between checks, not with the local clock
 * (the server's clock may differ): a poller that is alive polls again at least once a long poll (a minute), so the
 * time stamp moves; one that has not moved, or is missing, for `stuckAfterMs` of local time is stuck. A server that
 * does not answer says nothing about the worker ('unknown'; availability is watched elsewhere), and the count starts
 * again once it answers: after an outage the worker needs a moment to poll again.
 */
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';

export interface QueuePoller {
  identity: string;
  /** The server's time of this poller's last poll (ms since the epoch), or null when it gave none. */
  lastAccessTime: number | null;
}

/** The pollers the server has seen on a task queue's workflow tasks. */
export type DescribePollers = (taskQueue: string) => Promise<QueuePoller[]>;

export interface PollCheck {
  state: 'polling' | 'stuck' | 'unknown';
  /** Local time since this worker's poll time stamp last moved (or since the watch began). */
  quietForMs: number;
}

export class PollWatch {
  private readonly seen = new Map<string, { access: number | null; since: number; checkedAt: number }>();

  /**
   * `maxGapMs`: checks further apart than this (the process itself did not run: suspended, frozen, starved) start
   * the count again, since the worker could not poll either; the supervisor (worker-supervisor.ts) checks at least twice within it.
   */
  constructor(
    private readonly describe: DescribePollers,
    private readonly identity: string,
    private readonly stuckAfterMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxGapMs = stuckAfterMs / 2,
  ) {}

  async check(taskQueue: string): Promise<PollCheck> {
    let pollers: QueuePoller[];
    try {
      pollers = await this.describe(taskQueue);
    } catch {
      // Nor can the worker poll a server that does not answer: the count starts again once it does.
      this.seen.delete(taskQueue);
      return { state: 'unknown', quietForMs: 0 };
    }
    const access = pollers.find((p) => p.identity === this.identity)?.lastAccessTime ?? null;
    const now = this.now();
    let last = this.seen.get(taskQueue);
    // A time stamp that moved: it polled since the last check. Frozen or missing (the server forgets pollers after a
    // few minutes): still quiet since it last moved, or since the watch began.
    if (!last || now - last.checkedAt > this.maxGapMs || (access !== null && access !== last.access)) {
      last = { access, since: now, checkedAt: now };
      this.seen.set(taskQueue, last);
    }
    last.checkedAt = now;
    const quietForMs = now - last.since;
    return { state: quietForMs >= this.stuckAfterMs ? 'stuck' : 'polling', quietForMs };
  }
}

/** The pollers of a task queue's workflow tasks, from DescribeTaskQueue over the worker's own connection. */
export function describeWorkflowPollers(connection: NativeConnection, namespace: string, timeoutMs = 5_000): DescribePollers {
  return async (taskQueue) => {
    const response = await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    return (response.pollers ?? []).map((p) => ({ identity: p.identity ?? '', lastAccessTime: optionalTsToMs(p.lastAccessTime) ?? null }));
  };
}

/**
 * A worker that is running but has not polled its task queue for the watch's limit, and could not be replaced
 * (src/temporal/worker-supervisor.ts): the replacement budget was spent, or making one failed (`cause`).
 */
export class WorkerStuckError extends Error {
  constructor(
    readonly taskQueue: string,
    readonly identity: string,
    readonly quietForMs: number,
    cause?: unknown,
  ) {
    super(
      `The worker on task queue ${taskQueue} (${identity}) is running but has not polled it for ${Math.round(quietForMs / 1000)} s ` +
        '(as the Temporal server sees it), as when its workflow-task slots are all held and never given back. Stopping, so it can be ' +
        'started again; the server gives the tasks it held to a live worker.',
      cause === undefined ? undefined : { cause },
    );
    this.name = 'WorkerStuckError';
  }
}
