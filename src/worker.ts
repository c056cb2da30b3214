/** The playbook worker: workflows bundled from workflows/, activities wired to the configured connectors. */
import path from 'node:path';
import { DefaultLogger, type LogLevel, Runtime, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { Config } from './config';
import { FileReportSink } from './connectors/file-reports/client';
import { FileCloudStorageCatalog } from './connectors/local-files/client';
import { createEnrichmentSources } from './connectors/sources';
import { LogApprovalNotifier } from './connectors/log-notifier/client';
import { SlackApprovalNotifier } from './connectors/slack/client';
import type { ApprovalNotifier } from './contracts/ports';
import { LogEscalationNotifier } from './connectors/log-notifier/escalations';
import { createContainmentProviders } from './containment/providers';
import type { Logger } from './logger';
import type { PlaybookMetrics } from './metrics';
import { FileAuditLog } from './audit/audit-log';
import { AuditTrail } from './audit/trail';
import { type AuditForwardTarget, createAuditForwarder } from './connectors/siem-audit/client';
import { dataConverterFor } from './temporal/payload-codec';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** Slack when configured; otherwise the log, and approvers decide with the CLI. */
function createNotifier(config: Config, logger: Logger): ApprovalNotifier {
  const log = logger.child({ component: 'approvals' });
  const slack = config.slack;
  if (!slack) return new LogApprovalNotifier(log, config.temporal.uiUrl, config.temporal.namespace);
  return new SlackApprovalNotifier({
    botToken: slack.botToken,
    apiUrl: slack.apiUrl,
    teamId: slack.teamId,
    channel: slack.channel,
    approvers: slack.approvers,
    userMap: slack.userMap,
    mapUsersByEmail: slack.mapUsersByEmail,
    escalation: slack.escalation,
    uiUrl: config.temporal.uiUrl,
    namespace: config.temporal.namespace,
    logger: log,
  });
}

/** The SIEM `audit.forward.to` names, with that vendor's connection; null when records stay local. */
export function auditForwardTarget(config: Config): AuditForwardTarget | null {
  const forward = config.audit.forward;
  if (!forward) return null;
  // The config schema refuses a forward without its vendor block; a programming error if reached.
  const vendorMissing = () => new Error(`vendors.${forward.to} is not configured`);
  if (forward.to === 'splunk') {
    const splunk = config.vendors.splunk;
    if (!splunk) throw vendorMissing();
    return { ...forward, hecUrl: splunk.hecUrl, hecToken: splunk.hecToken, timeoutMs: splunk.requestTimeout };
  }
  const es = config.vendors.elasticsearch;
  if (!es) throw vendorMissing();
  return { ...forward, url: es.url, apiKey: es.apiKey, timeoutMs: es.requestTimeout };
}

/** The connectors the configuration selects. */
export function createActivityDeps(config: Config, logger: Logger, metrics: PlaybookMetrics | null = null): ActivityDeps {
  const dataDir = path.resolve(config.enrichment.dataDir);
  return {
    cloudStorage: new FileCloudStorageCatalog(dataDir),
    ...createEnrichmentSources(config),
    businessHours: config.playbook.businessHours,
    policyChangeWindowDays: config.playbook.policyChangeWindowDays,
    notifier: createNotifier(config, logger),
    containment: createContainmentProviders(config),
    escalations: new LogEscalationNotifier(logger.child({ component: 'escalations' })),
    reports: new FileReportSink(path.resolve(config.dataDir)),
    audit: new AuditTrail(new FileAuditLog(config.audit.file), createAuditForwarder(auditForwardTarget(config)), metrics),
  };
}

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
