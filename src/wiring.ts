/**
 * The one place that reads the configuration and picks implementations: for every port, the file-backed default, the
 * dry run or the vendor the configuration names, each vendor built from its one client. Connectors know nothing of
 * the configuration; the worker, the HTTP app and the tests get their dependencies from here.
 */
import path from 'node:path';
import type { ActivityDeps, ContainmentProviders } from '../activities';
import { FileAuditLog } from './audit/audit-log';
import { AuditTrail } from './audit/trail';
import type { Config } from './config';
import { VerifiedIsolation } from './containment/verified-isolation';
import { CrowdStrikeIsolation } from './connectors/crowdstrike/isolation';
import { DropboxMemberSuspension } from './connectors/dropbox/members';
import { DryRunContainment } from './connectors/dry-run/client';
import { ElasticsearchAuditForwarder } from './connectors/elasticsearch/audit-forwarder';
import { ElasticsearchClient } from './connectors/elasticsearch/client';
import { ElasticsearchUploadBaselines } from './connectors/elasticsearch/upload-baselines';
import { TemporalRecordedUploads } from './temporal/recorded-uploads';
import { BurstPacer, type PacingEvent } from './temporal/burst-pacer';
import { FileReportSink } from './connectors/file-reports/client';
import { GoogleSignOut } from './connectors/google-workspace/sessions';
import {
  FileChangeRecords,
  FileCloudStorageCatalog,
  FileDeviceInventory,
  FileHrDirectory,
  FileUploadBaselines,
  type WarmedFile,
} from './connectors/local-files/client';
import { LogApprovalNotifier } from './connectors/log-notifier/client';
import { LogEscalationNotifier } from './connectors/log-notifier/escalations';
import { SlackEscalationNotifier } from './connectors/slack/escalations';
import { DefenderIsolation } from './connectors/microsoft-defender/isolation';
import { EntraApp, entraTokenUrl } from './connectors/microsoft-entra/client';
import { GRAPH_URL, GraphClient } from './connectors/microsoft-graph/client';
import { IntuneDeviceInventory } from './connectors/microsoft-graph/intune-devices';
import { GraphSessionRevocation } from './connectors/microsoft-graph/sessions';
import { OktaClient } from './connectors/okta/client';
import { OktaDirectory } from './connectors/okta/directory';
import { OktaSessionRevocation } from './connectors/okta/sessions';
import { SentinelOneIsolation } from './connectors/sentinelone/isolation';
import { ServiceNowChangeRecords } from './connectors/servicenow/change-requests';
import { SlackApprovalNotifier } from './connectors/slack/client';
import { SplunkHecForwarder } from './connectors/splunk/hec-forwarder';
import type {
  AccessRevocationProvider,
  ApprovalNotifier,
  EscalationNotifier,
  AuditForwarder,
  ChangeRecords,
  DeviceInventory,
  EndpointIsolationProvider,
  HrDirectory,
  UploadBaselines,
} from './contracts/ports';
import type { Logger } from './logger';
import type { PlaybookMetrics } from './metrics';

/**
 * Entra app registrations by credentials: where Intune, Graph sessions and Defender are configured with the same
 * app, they share one EntraApp and so one token cache.
 */
class EntraApps {
  private readonly apps = new Map<string, EntraApp>();

  get(app: { tokenUrl: string; clientId: string; clientSecret: string; timeoutMs: number }): EntraApp {
    const key = JSON.stringify([app.tokenUrl, app.clientId, app.clientSecret]);
    let found = this.apps.get(key);
    if (!found) {
      found = new EntraApp(app);
      this.apps.set(key, found);
    }
    return found;
  }
}

export interface EnrichmentSources {
  hr: HrDirectory;
  changes: ChangeRecords;
  devices: DeviceInventory;
  baselines: UploadBaselines;
}

function missing(key: string): never {
  // The config schema already refuses a capability that names a vendor without its block; a programming error.
  throw new Error(`vendors.${key} is not configured`);
}

/** The one Entra app registration (`vendors.microsoftEntra`) behind Intune, Graph sessions and Defender. */
function entraAppOf(config: Config, entra: EntraApps): EntraApp {
  const v = config.vendors.microsoftEntra ?? missing('microsoftEntra');
  return entra.get({
    tokenUrl: v.tokenUrl ?? entraTokenUrl(v.tenantId, v.authorityUrl),
    clientId: v.clientId,
    clientSecret: v.clientSecret,
    timeoutMs: v.requestTimeout,
  });
}

function oktaClientOf(config: Config): OktaClient {
  const v = config.vendors.okta ?? missing('okta');
  return new OktaClient({ orgUrl: v.orgUrl, auth: v.auth, timeoutMs: v.requestTimeout });
}

function elasticsearchClientOf(config: Config): ElasticsearchClient {
  const v = config.vendors.elasticsearch ?? missing('elasticsearch');
  return new ElasticsearchClient({ url: v.url, apiKey: v.apiKey, timeoutMs: v.requestTimeout });
}

export function createEnrichmentSources(config: Config, entra: EntraApps = new EntraApps()): EnrichmentSources {
  const { hr, changes, devices, baselines } = config.enrichment;
  const dataDir = path.resolve(config.enrichment.dataDir);
  const servicenow = () => {
    const { requestTimeout, ...v } = config.vendors.servicenow ?? missing('servicenow');
    return { ...v, timeoutMs: requestTimeout };
  };
  const graph = () => {
    const v = config.vendors.microsoftEntra ?? missing('microsoftEntra');
    return new GraphClient(entraAppOf(config, entra), { graphUrl: v.graphUrl, timeoutMs: v.requestTimeout });
  };
  return {
    hr:
      hr.source === 'okta'
        ? new OktaDirectory(oktaClientOf(config), { ...hr, defaultTimezone: config.playbook.businessHours.defaultTimezone })
        : new FileHrDirectory(dataDir, config.identity),
    changes:
      changes.source === 'servicenow' ? new ServiceNowChangeRecords({ ...servicenow(), ...changes }) : new FileChangeRecords(dataDir),
    devices: devices.source === 'intune' ? new IntuneDeviceInventory(graph(), devices) : new FileDeviceInventory(dataDir),
    baselines:
      baselines.source === 'elasticsearch'
        ? new ElasticsearchUploadBaselines(elasticsearchClientOf(config), baselines)
        : new FileUploadBaselines(dataDir),
  };
}

/** The containment providers the configuration selects: one isolation provider, one or more access providers. */
export function createContainmentProviders(config: Config, entra: EntraApps = new EntraApps()): ContainmentProviders {
  const { isolation, access } = config.containment;
  const vendors = config.vendors;
  const dryRun = new DryRunContainment(path.resolve(config.dataDir));
  const timing = { pollIntervalMs: isolation.pollInterval, verifyTimeoutMs: isolation.verifyTimeout };

  let isolator: EndpointIsolationProvider;
  switch (isolation.provider) {
    case 'dry-run':
      isolator = dryRun.isolation;
      break;
    case 'crowdstrike': {
      const { requestTimeout, ...c } = vendors.crowdstrike ?? missing('crowdstrike');
      isolator = new VerifiedIsolation(new CrowdStrikeIsolation({ ...c, timeoutMs: requestTimeout }), timing);
      break;
    }
    case 'microsoft-defender': {
      const v = vendors.microsoftEntra ?? missing('microsoftEntra');
      isolator = new VerifiedIsolation(
        new DefenderIsolation(entraAppOf(config, entra), {
          baseUrl: v.defenderUrl,
          scope: v.defenderScope,
          isolationType: isolation.microsoftDefender.isolationType,
          timeoutMs: v.requestTimeout,
        }),
        timing,
      );
      break;
    }
    case 'sentinelone': {
      const { requestTimeout, ...c } = vendors.sentinelone ?? missing('sentinelone');
      isolator = new VerifiedIsolation(new SentinelOneIsolation({ ...c, timeoutMs: requestTimeout }), timing);
      break;
    }
  }

  const accessProviders: Record<string, AccessRevocationProvider> = {};
  for (const name of access.providers) {
    switch (name) {
      case 'dry-run':
        accessProviders[name] = dryRun.access;
        break;
      case 'microsoft-graph': {
        const v = vendors.microsoftEntra ?? missing('microsoftEntra');
        // Session revocation has always asked for the commercial Graph resource, whatever graphUrl says; kept so.
        const graph = new GraphClient(entraAppOf(config, entra), {
          graphUrl: v.graphUrl,
          scope: `${GRAPH_URL}/.default`,
          timeoutMs: v.requestTimeout,
        });
        accessProviders[name] = new GraphSessionRevocation(graph, access.microsoftGraph);
        break;
      }
      case 'okta':
        accessProviders[name] = new OktaSessionRevocation(oktaClientOf(config), access.okta);
        break;
      case 'google-workspace': {
        const v = vendors.googleWorkspace ?? missing('googleWorkspace');
        accessProviders[name] = new GoogleSignOut({
          baseUrl: v.baseUrl,
          serviceAccountKeyJson: v.serviceAccountKey,
          subject: v.subject,
          userTemplate: access.googleWorkspace.userTemplate,
          ...(v.tokenUri ? { tokenUri: v.tokenUri } : {}),
          timeoutMs: v.requestTimeout,
        });
        break;
      }
      case 'dropbox': {
        const v = vendors.dropbox ?? missing('dropbox');
        accessProviders[name] = new DropboxMemberSuspension({
          baseUrl: v.baseUrl,
          accessToken: v.accessToken,
          userTemplate: access.dropbox.userTemplate,
          timeoutMs: v.requestTimeout,
        });
        break;
      }
    }
  }
  return { isolation: { [isolator.name]: isolator }, access: accessProviders };
}

/** The SIEM copy of the audit trail: the vendor `audit.forward.to` names, when configured. */
export function createAuditForwarder(config: Config): AuditForwarder | null {
  const forward = config.audit.forward;
  if (!forward) return null;
  if (forward.to === 'splunk') {
    const v = config.vendors.splunk ?? missing('splunk');
    return new SplunkHecForwarder({
      url: v.hecUrl,
      token: v.hecToken,
      index: forward.index,
      sourcetype: forward.sourcetype,
      timeoutMs: v.requestTimeout,
    });
  }
  return new ElasticsearchAuditForwarder(elasticsearchClientOf(config), forward.index);
}

/** Slack when configured; otherwise the log, and approvers decide with the CLI. */
export function createNotifier(config: Config, logger: Logger): ApprovalNotifier {
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
    identity: config.identity,
    escalation: slack.escalation,
    uiUrl: config.temporal.uiUrl,
    namespace: config.temporal.namespace,
    logger: log,
  });
}

/** Tier 2 escalations: to Slack's escalation channel through the approval notifier's client when Slack is configured, and always to the log. */
export function createEscalationNotifier(notifier: ApprovalNotifier, logger: Logger): EscalationNotifier {
  const escalations = logger.child({ component: 'escalations' });
  const log = new LogEscalationNotifier(escalations);
  return notifier instanceof SlackApprovalNotifier ? new SlackEscalationNotifier(notifier, log, escalations) : log;
}

/** The cloud-storage catalog (the domain allowlist) the activities and the HTTP app's case keys read. */
export function createCloudStorageCatalog(config: Config): FileCloudStorageCatalog {
  return new FileCloudStorageCatalog(path.resolve(config.enrichment.dataDir));
}

/** Every dependency of the activities, as the configuration selects them. */
/**
 * Reads the data files of the file-backed sources ahead, in parallel (a source backed by a vendor has nothing to
 * warm). A worker calls it at start-up: the first lookups of a burst would otherwise parse the YAML on the event
 * loop the webhook shares (a directory of 1,000 users is about a second of CPU), while acknowledgements wait.
 */
export async function warmDataFiles(deps: Pick<ActivityDeps, 'cloudStorage' | 'hr' | 'changes' | 'devices' | 'baselines'>): Promise<WarmedFile[]> {
  const sources = [deps.cloudStorage, deps.hr, deps.changes, deps.devices, deps.baselines];
  const warmable = sources.filter((s): s is typeof s & { warm(): Promise<WarmedFile> } => typeof (s as { warm?: unknown }).warm === 'function');
  return Promise.all(warmable.map((s) => s.warm()));
}

export function createActivityDeps(config: Config, logger: Logger, metrics: PlaybookMetrics | null = null): ActivityDeps {
  const entra = new EntraApps();
  const notifier = createNotifier(config, logger);
  return {
    cloudStorage: createCloudStorageCatalog(config),
    ...createEnrichmentSources(config, entra),
    recordedUploads: (client, askingWorkflowId) => new TemporalRecordedUploads(client, askingWorkflowId),
    businessHours: config.playbook.businessHours,
    policyChangeWindowDays: config.playbook.policyChangeWindowDays,
    notifier,
    containment: createContainmentProviders(config, entra),
    escalations: createEscalationNotifier(notifier, logger),
    reports: new FileReportSink(path.resolve(config.dataDir)),
    audit: new AuditTrail(new FileAuditLog(config.audit.file, undefined, config.audit.keys), createAuditForwarder(config), metrics),
  };
}

/**
 * The longest a case start waits for the pace: well inside the index's workflow task timeout (10 s), which the start's
 * local activity runs in, with the start itself still to make.
 */
export const CASE_START_MAX_WAIT_MS = 5_000;

/**
 * The case indexes' burst pacing (src/temporal/burst-pacer.ts): only where this process answers the webhooks too,
 * since it paces on their acknowledgements; null when off or when the roles run apart.
 */
export function createBurstPacer(
  config: Config,
  roles: { worker: boolean; http: boolean },
  onPacing?: (event: PacingEvent) => void,
): BurstPacer | null {
  const pacing = config.temporal.worker.burstPacing;
  if (!pacing.enabled || !roles.worker || !roles.http) return null;
  return new BurstPacer({
    ackTargetMs: pacing.ackTarget,
    minStartsPerSecond: pacing.minStartsPerSecond,
    quietAfterMs: pacing.quietAfter,
    backlog: pacing.backlog,
    maxWaitMs: CASE_START_MAX_WAIT_MS,
    ...(onPacing ? { onPacing } : {}),
  });
}

/** The burst pacer's events as log lines: when a burst starts being paced, and what the pacing did once it is over. */
export function pacingLog(logger: Logger): (event: PacingEvent) => void {
  const log = logger.child({ component: 'burst-pacer' });
  return (e: PacingEvent) => {
    if (e.event === 'paced')
      log.info(
        { startsPerSecond: Number(e.startsPerSecond.toFixed(2)), ackP90Ms: Math.round(e.ackP90Ms), backlog: e.backlog },
        'Alert burst: case starts paced to keep the webhook acknowledgements quick',
      );
    else
      log.info(
        { heldStarts: e.heldStarts, longestWaitMs: Math.round(e.longestWaitMs), pacedForMs: e.burstMs },
        e.burstOver ? 'Alert burst over: case starts no longer paced' : 'The case indexes keep up with the alerts again: case starts no longer paced',
      );
  };
}
