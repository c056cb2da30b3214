/** The playbook worker: workflows bundled from workflows/, activities wired to the configured connectors. */
import {
  bundleWorkflowCode,
  DefaultLogger,
  type LogLevel,
  Runtime,
  Worker,
  type NativeConnection,
  type WorkerOptions,
} from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { createCaseIndexActivities } from '../activities/case-start';
import type { Config } from './config';
import type { Logger } from './logger';
import type { BurstPacer } from './temporal/burst-pacer';
import { dataConverterFor } from './temporal/payload-codec';
import { describeWorkflowQueue } from './temporal/poll-watch';

export const WORKFLOWS_PATH = require.resolve('../workflows');

let runtimeInstalled = false;

/**
 * The SDK exporter named by Prometheus conventions: counters end in `_total`, durations are in seconds and say so
 * (`temporal_activity_execution_latency_seconds`), as the dashboards and alert rules in deploy/monitoring/ expect.
 * The SDK's defaults (no suffix, milliseconds) are the names before issue #16; docs/operations/metrics.md maps them.
 */
export function sdkPrometheusOptions(bindAddress: string) {
  return { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true };
}

/**
 * Routes the SDK's own logs (worker, workflow `log`, activity `log`) through our logger, and serves the SDK's worker
 * metrics in Prometheus format on `sdkPrometheusAddress` when given (GET /metrics appends them). Once per process.
 *
 * The SDK's own signal handling is off (`shutdownSignals: []`): src/start.ts stops everything in order on SIGINT and
 * SIGTERM (HTTP first, then the workers, then the connections, then the dev server), and a worker already draining
 * on the SDK's initiative would break that order.
 */
export function installSdkLogger(logger: Logger, sdkPrometheusAddress?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const sdk = logger.child({ component: 'temporal-sdk' });
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger('INFO', (entry) => {
      sdk[levels[entry.level]](entry.meta ?? {}, entry.message);
    }),
    ...(sdkPrometheusAddress ? { telemetryOptions: { metrics: { prometheus: sdkPrometheusOptions(sdkPrometheusAddress) } } } : {}),
  });
}

/** Bundles the workflow code once for all the workers of a process; the bundler's own lines go to our log. */
export function bundleWorkflows(logger: Logger): ReturnType<typeof bundleWorkflowCode> {
  const log = logger.child({ component: 'workflow-bundler' });
  const quiet = () => {};
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: {
      log: (level, message, meta) => (level === 'WARN' || level === 'ERROR' ? log.warn(meta ?? {}, message) : undefined),
      trace: quiet,
      debug: quiet,
      info: quiet,
      warn: (message, meta) => log.warn(meta ?? {}, message),
      error: (message, meta) => log.error(meta ?? {}, message),
    },
  });
}

export interface CreateWorkerOptions {
  config: Config;
  connection: NativeConnection;
  deps: ActivityDeps;
  /** Tests pass a prebuilt bundle (bundle once) and a cache size of 0 (replay every task). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxCachedWorkflows?: number;
  taskQueue?: string;
  /** The SDK's default (`pid@host`) unless given: a replacement of a stuck worker has one of its own. */
  identity?: string;
  /** Paces the case indexes' case starts during alert bursts (src/temporal/burst-pacer.ts), on whichever worker runs them. */
  pacer?: BurstPacer;
}

/**
 * The playbook worker: cases (and, unless `temporal.ingestTaskQueue` gives them their own, the case indexes).
 *
 * Tuning, and why: workflow tasks of one worker run one at a time on its workflow thread, and each must finish within
 * the run's workflow task timeout (10 s). A worker that takes many more than it can finish in that time (the SDK's
 * default is 40) turns a burst into timeouts, and every timed-out task is replayed from the start: overload becomes
 * collapse. A small number of slots keeps the backlog in the server's queue, where it waits without a timeout and
 * drains at the worker's pace. Activities are mostly I/O and get more slots.
 *
 * Workflow-task pollers: a poller takes a slot before its long poll and holds it while it waits. With the SDK's
 * default (as many pollers as slots, at most 10, a fifth on the task queue and the rest on the worker's sticky
 * queue) the idle sticky pollers of the ingest worker held seven of its eight slots, and its one task-queue poller
 * could ask again only once the task it had brought was done: in the throughput bench (300 runs, 20 in flight, 2
 * cores) a new case index's first workflow task waited 450 ms at the median and 3.3 s at most. With four pollers,
 * two on the task queue (`temporal.worker.ingestWorkflowTaskPolls: 4`), 97 ms and 0.6 s, and the end-to-end p99 fell
 * from about 4 s to 2.1 to 2.5 s. It is not the default: in storms that wait had been holding the cases back, and
 * without it the cases started faster than the playbook worker closed them (the 3,000-alert storm drained in 187 s
 * against 161 s with the SDK's polling, the 10,000-alert one in 661 s against 572 s), so it stays an operator's
 * choice of latency over storm drain. Tried again with six once the cases had become cheaper (docs/performance.md,
 * 2026-12-02): the 10,000-alert storm's open cases climbed to 3,008 and it drained in 1.23x the bare baseline
 * against 1.12x and 0.98x with the SDK's polling. With four, once more (2026-12-02, fifth session): the storm drained
 * in 1.00x and at 20 alerts/s the cases started within 0.2 s of their acknowledgement instead of about 20 s (the SDK's
 * polling routes one alert at a time: 11.9 a second there), but the acknowledgement p99 rose from about 90 ms to
 * 163 ms, over the 100 ms target, as the case work ran while the alerts came. The playbook worker keeps the SDK's
 * default: with four pollers its case tasks, mostly on its sticky queue, waited about four times longer (median
 * 37 ms, then 153 ms).
 */
export function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { config } = options;
  const tuning = config.temporal.worker;
  return Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? config.temporal.taskQueue,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    // With a pacer, the case indexes' starts ask it for admission (when the indexes share this worker's queue).
    activities: { ...createActivities(options.deps), ...(options.pacer ? pacedCaseIndexActivities(options.pacer) : {}) },
    dataConverter: dataConverterFor(config.temporal.payloadCodec),
    maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTasks,
    maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivities,
    shutdownGraceTime: tuning.shutdownGraceTime,
    maxCachedWorkflows: options.maxCachedWorkflows ?? tuning.maxCachedWorkflows,
  });
}

/**
 * The ingest worker: only the case indexes, on `temporal.ingestTaskQueue`, with a workflow thread of its own, so an
 * alert's acknowledgement (one workflow task of its index) never queues behind playbook work. Null when the case
 * indexes share the playbook's queue. The indexes run local activities of their own only: a case's start, and whether it
 * still runs.
 */
export function createIngestWorker(options: Omit<CreateWorkerOptions, 'deps' | 'taskQueue'>): Promise<Worker> | null {
  const { config } = options;
  const taskQueue = config.temporal.ingestTaskQueue;
  if (!taskQueue || taskQueue === config.temporal.taskQueue) return null;
  return Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: options.pacer ? pacedCaseIndexActivities(options.pacer) : createCaseIndexActivities(),
    // Local activities only: no poller for activity tasks on this queue.
    enableNonLocalActivities: false,
    dataConverter: dataConverterFor(config.temporal.payloadCodec),
    maxConcurrentWorkflowTaskExecutions: config.temporal.worker.maxConcurrentWorkflowTasks,
    ...ingestPolling(config.temporal.worker),
    shutdownGraceTime: config.temporal.worker.shutdownGraceTime,
    maxCachedWorkflows: options.maxCachedWorkflows ?? config.temporal.worker.maxCachedWorkflows,
  });
}

/** The case indexes' activities with their case starts paced by `pacer` (src/temporal/burst-pacer.ts). */
function pacedCaseIndexActivities(pacer: BurstPacer) {
  return createCaseIndexActivities({ admit: (signal) => pacer.admit(signal) });
}

/**
 * How the ingest worker polls for workflow tasks: the SDK's default unless `ingestWorkflowTaskPolls` is set, then that
 * many long polls (fewer than its slots, see `createWorker`), half of them on the task queue: an index's tasks are
 * mostly its first, which the task queue carries (a playbook worker's are mostly a running case's next ones, on its
 * sticky queue).
 */
export function ingestPolling(
  tuning: Config['temporal']['worker'],
): Pick<WorkerOptions, 'workflowTaskPollerBehavior' | 'nonStickyToStickyPollRatio'> {
  if (tuning.ingestWorkflowTaskPolls === undefined) return {};
  return {
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: tuning.ingestWorkflowTaskPolls },
    nonStickyToStickyPollRatio: 0.5,
  };
}

/**
 * Reads how many workflow tasks wait on the case indexes' task queue (`ingestTaskQueue`, else the playbook's): alerts
 * acknowledged that no index has routed yet, the burst pacing's backlog (src/temporal/burst-pacer.ts). One
 * DescribeTaskQueue call, within 2 s.
 */
export function queueBacklog(connection: NativeConnection, config: Config): () => Promise<number> {
  const describe = describeWorkflowQueue(connection, config.temporal.namespace, 2_000);
  const taskQueue = config.temporal.ingestTaskQueue ?? config.temporal.taskQueue;
  return async () => (await describe(taskQueue)).backlog?.count ?? 0;
}
