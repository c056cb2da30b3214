/** The playbook worker: workflows bundled from workflows/, activities wired to the configured connectors. */
import { DefaultLogger, type LogLevel, Runtime, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { Config } from './config';
import type { Logger } from './logger';
import { dataConverterFor } from './temporal/payload-codec';

export const WORKFLOWS_PATH = require.resolve('../workflows');

let runtimeInstalled = false;

/**
 * Routes the SDK's own logs (worker, workflow `log`, activity `log`) through our logger, and serves the SDK's worker
 * metrics in Prometheus format on `sdkPrometheusAddress` when given (GET /metrics appends them). Once per process.
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
    logger: new DefaultLogger('INFO', (entry) => {
      sdk[levels[entry.level]](entry.meta ?? {}, entry.message);
    }),
    ...(sdkPrometheusAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkPrometheusAddress } } } } : {}),
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
}

export function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { config } = options;
  return Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? config.temporal.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(options.deps),
    dataConverter: dataConverterFor(config.temporal.payloadCodec),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
  });
}
