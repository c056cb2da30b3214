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
import { FileReportSink } from './connectors/file-reports/client';
import { GoogleSignOut } from './connectors/google-workspace/sessions';
import {
  FileChangeRecords,
  FileCloudStorageCatalog,
  FileDeviceInventory,
  FileHrDirectory,
  FileUploadBaselines,
} from './connectors/local-files/client';
import { LogApprovalNotifier } from './connectors/log-notifier/client';
import { LogEscalationNotifier } from './connectors/log-notifier/escalations';
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

export function createEnrichmentSources(config: Config, entra: EntraApps = new EntraApps()): EnrichmentSources {
  const dataDir = path.resolve(config.connectors.dataDir);
  const { hr, changes, devices, baselines } = config.connectors;
  return {
    hr:
      hr.type === 'okta'
        ? new OktaDirectory(new OktaClient({ orgUrl: hr.orgUrl, auth: hr.auth, timeoutMs: hr.timeoutMs }), {
            ...hr,
            defaultTimezone: config.playbook.businessHours.defaultTimezone,
          })
        : new FileHrDirectory(dataDir),
    changes: changes.type === 'servicenow' ? new ServiceNowChangeRecords(changes) : new FileChangeRecords(dataDir),
    devices:
      devices.type === 'intune'
        ? new IntuneDeviceInventory(
            new GraphClient(
              entra.get({
                tokenUrl: entraTokenUrl(devices.tenantId, devices.authorityUrl),
                clientId: devices.clientId,
                clientSecret: devices.clientSecret,
                timeoutMs: devices.timeoutMs,
              }),
              { graphUrl: devices.graphUrl, timeoutMs: devices.timeoutMs },
            ),
            devices,
          )
        : new FileDeviceInventory(dataDir),
    baselines:
      baselines.type === 'elasticsearch'
        ? new ElasticsearchUploadBaselines(
            new ElasticsearchClient({ url: baselines.url, apiKey: baselines.apiKey, timeoutMs: baselines.timeoutMs }),
            baselines,
          )
        : new FileUploadBaselines(dataDir),
  };
}

function missing(key: string): never {
  // The config schema already refuses this; a programming error if reached.
  throw new Error(`connectors.containment.${key} is not configured`);
}

/** The containment providers the configuration selects: one isolation provider, one or more access providers. */
export function createContainmentProviders(config: Config, entra: EntraApps = new EntraApps()): ContainmentProviders {
  const { isolation, access, requestTimeout } = config.connectors.containment;
  const dryRun = new DryRunContainment(path.resolve(config.dataDir));
  const timing = { pollIntervalMs: isolation.pollInterval, verifyTimeoutMs: isolation.verifyTimeout };
  const timeoutMs = requestTimeout;
  const entraApp = (c: { tenantId: string; tokenUrl?: string | undefined; clientId: string; clientSecret: string }) =>
    entra.get({ tokenUrl: c.tokenUrl ?? entraTokenUrl(c.tenantId), clientId: c.clientId, clientSecret: c.clientSecret, timeoutMs });

  let isolator: EndpointIsolationProvider;
  switch (isolation.provider) {
    case 'dry-run':
      isolator = dryRun.isolation;
      break;
    case 'crowdstrike': {
      const c = isolation.crowdstrike ?? missing('isolation.crowdstrike');
      isolator = new VerifiedIsolation(new CrowdStrikeIsolation({ ...c, timeoutMs }), timing);
      break;
    }
    case 'microsoft-defender': {
      const c = isolation.microsoftDefender ?? missing('isolation.microsoftDefender');
      isolator = new VerifiedIsolation(
        new DefenderIsolation(entraApp(c), { baseUrl: c.baseUrl, scope: c.scope, isolationType: c.isolationType, timeoutMs }),
        timing,
      );
      break;
    }
    case 'sentinelone': {
      const c = isolation.sentinelone ?? missing('isolation.sentinelone');
      isolator = new VerifiedIsolation(new SentinelOneIsolation({ ...c, timeoutMs }), timing);
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
        const c = access.microsoftGraph ?? missing('access.microsoftGraph');
        // Session revocation has always asked for the commercial Graph resource, whatever baseUrl says; kept so.
        const graph = new GraphClient(entraApp(c), { graphUrl: c.baseUrl, scope: `${GRAPH_URL}/.default`, timeoutMs });
        accessProviders[name] = new GraphSessionRevocation(graph, c);
        break;
      }
      case 'okta': {
        const c = access.okta ?? missing('access.okta');
        const okta = new OktaClient({ orgUrl: c.orgUrl, auth: { type: 'ssws', token: c.apiToken }, timeoutMs });
        accessProviders[name] = new OktaSessionRevocation(okta, c);
        break;
      }
      case 'google-workspace': {
        const c = access.googleWorkspace ?? missing('access.googleWorkspace');
        accessProviders[name] = new GoogleSignOut({
          baseUrl: c.baseUrl,
          serviceAccountKeyJson: c.serviceAccountKey,
          subject: c.subject,
          userTemplate: c.userTemplate,
          ...(c.tokenUri ? { tokenUri: c.tokenUri } : {}),
          timeoutMs,
        });
        break;
      }
      case 'dropbox': {
        const c = access.dropbox ?? missing('access.dropbox');
        accessProviders[name] = new DropboxMemberSuspension({ ...c, timeoutMs });
        break;
      }
    }
  }
  return { isolation: { [isolator.name]: isolator }, access: accessProviders };
}

/** The SIEM copy of the audit trail, when configured. */
export function createAuditForwarder(forward: Config['audit']['forward']): AuditForwarder | null {
  if (!forward) return null;
  if (forward.type === 'splunk-hec') return new SplunkHecForwarder(forward);
  return new ElasticsearchAuditForwarder(new ElasticsearchClient({ url: forward.url, apiKey: forward.apiKey }), forward.index);
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
    escalation: slack.escalation,
    uiUrl: config.temporal.uiUrl,
    namespace: config.temporal.namespace,
    logger: log,
  });
}

/** The cloud-storage catalog (the domain allowlist) the activities and the HTTP app's case keys read. */
export function createCloudStorageCatalog(config: Config): FileCloudStorageCatalog {
  return new FileCloudStorageCatalog(path.resolve(config.connectors.dataDir));
}

/** Every dependency of the activities, as the configuration selects them. */
export function createActivityDeps(config: Config, logger: Logger, metrics: PlaybookMetrics | null = null): ActivityDeps {
  const entra = new EntraApps();
  return {
    cloudStorage: createCloudStorageCatalog(config),
    ...createEnrichmentSources(config, entra),
    businessHours: config.playbook.businessHours,
    policyChangeWindowDays: config.playbook.policyChangeWindowDays,
    notifier: createNotifier(config, logger),
    containment: createContainmentProviders(config, entra),
    escalations: new LogEscalationNotifier(logger.child({ component: 'escalations' })),
    reports: new FileReportSink(path.resolve(config.dataDir)),
    audit: new AuditTrail(new FileAuditLog(config.audit.file), createAuditForwarder(config.audit.forward), metrics),
  };
}
