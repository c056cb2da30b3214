/**
 * Activities: thin adapters from the workflow to the injected connectors. They validate nothing the connectors
 * already validated, and translate connector errors into Temporal failures (see failures.ts).
 */
import { log } from '@temporalio/activity';
import type {
  BaselineFinding,
  BusinessHoursFinding,
  ContainmentActionResult,
  ContainmentRequest,
  DeviceFinding,
  DomainFinding,
  HrFinding,
  PolicyChangesFinding,
  RunState,
} from '../src/contracts/playbook';
import type {
  ApprovalNotifier,
  ApprovalRequest,
  BusinessHoursPolicy,
  ChangeRecords,
  CloudStorageCatalog,
  ContainmentProvider,
  DeviceInventory,
  HrDirectory,
  ReportSink,
  Sourced,
  UploadBaselines,
} from '../src/contracts/ports';
import { ConnectorConfigurationError, ConnectorNotFoundError } from '../src/connectors/errors';
import { evaluateBusinessHours as evaluateHours } from '../src/enrichment/business-hours';
import { checkDomain } from '../src/enrichment/domain';
import { translated } from './failures';
import type { AuditEvent } from '../src/audit/audit-log';
import type { AuditReceipt, AuditTrail } from '../src/audit/trail';

export interface ActivityDeps {
  cloudStorage: CloudStorageCatalog;
  hr: HrDirectory;
  changes: ChangeRecords;
  devices: DeviceInventory;
  baselines: UploadBaselines;
  businessHours: BusinessHoursPolicy;
  policyChangeWindowDays: number;
  notifier: ApprovalNotifier;
  containment: ContainmentProvider;
  reports: ReportSink;
  /** The hash-chained audit trail (and its SIEM forwarding). */
  audit: AuditTrail;
}

export function createActivities(deps: ActivityDeps) {
  return {
    /** Is the destination an approved cloud-storage domain? Which known service is it? */
    checkDestinationDomain: translated(async (input: { destDomain: string; destUrl: string | null }): Promise<Sourced<DomainFinding>> => {
      const [approved, services] = await Promise.all([deps.cloudStorage.approvedDomains(), deps.cloudStorage.knownServices()]);
      return { source: deps.cloudStorage.name, value: checkDomain(input.destDomain, input.destUrl, approved, services) };
    }),

    /** HR record of the user: employment status, manager, time zone, cloud-storage authorization. */
    lookupHrAuthorization: translated(async (input: { user: string }): Promise<Sourced<HrFinding>> => {
      const record = await deps.hr.lookupUser(input.user);
      if (!record) throw new ConnectorNotFoundError(deps.hr.name, `no HR record for user "${input.user}"`);
      return { source: deps.hr.name, value: record };
    }),

    /** Policy or configuration changes, exceptions and pilots related to cloud storage, recent to the event. */
    findCloudStoragePolicyChanges: translated(
      async (input: { user: string; eventTime: string }): Promise<Sourced<PolicyChangesFinding>> => {
        const until = new Date(input.eventTime);
        const since = new Date(until.getTime() - deps.policyChangeWindowDays * 86_400_000);
        const records = await deps.changes.listCloudStorageChanges({ since: since.toISOString(), until: until.toISOString() });
        return { source: deps.changes.name, value: { windowDays: deps.policyChangeWindowDays, records } };
      },
    ),

    /** Is the device managed and allowed to use cloud storage? */
    checkDeviceAuthorization: translated(async (input: { host: string }): Promise<Sourced<DeviceFinding>> => {
      const device = await deps.devices.lookupDevice(input.host);
      if (!device) throw new ConnectorNotFoundError(deps.devices.name, `device "${input.host}" is not in the inventory`);
      return { source: deps.devices.name, value: device };
    }),

    /** The user's normal daily upload volume to cloud storage. */
    getUploadBaseline: translated(async (input: { user: string; eventTime?: string }): Promise<Sourced<BaselineFinding>> => {
      const baseline = await deps.baselines.baselineFor(input.user, input.eventTime);
      if (!baseline) throw new ConnectorNotFoundError(deps.baselines.name, `no upload history for user "${input.user}"`);
      return { source: deps.baselines.name, value: baseline };
    }),

    /** Business hours at the event time in the user's time zone (the organisation default when HR has none). */
    evaluateBusinessHours: translated((input: { eventTime: string; timezone: string | null }): Promise<Sourced<BusinessHoursFinding>> => {
      try {
        return Promise.resolve({
          source: 'business-hours-policy',
          value: evaluateHours(input.eventTime, input.timezone, deps.businessHours),
        });
      } catch (err) {
        throw new ConnectorConfigurationError(
          'business-hours-policy',
          `cannot evaluate time zone "${input.timezone}": ${(err as Error).message}`,
          { cause: err },
        );
      }
    }),

    /** Sends the approval request to the humans who may decide it. */
    requestApproval: translated(async (request: ApprovalRequest): Promise<{ via: string }> => {
      const result = await deps.notifier.requestApproval(request);
      log.info('Approval requested', { via: result.via, requestId: request.requestId });
      return result;
    }),

    /** Revokes the user's cloud-storage access. Idempotent per run. */
    revokeCloudStorageAccess: translated(async (request: ContainmentRequest): Promise<ContainmentActionResult> => {
      const result = await deps.containment.revokeCloudStorageAccess(request);
      log.info('Cloud-storage access revocation', { status: result.status, provider: result.provider, target: result.target });
      return result;
    }),

    /** Requests network isolation of the endpoint. Idempotent per run. */
    isolateEndpoint: translated(async (request: ContainmentRequest): Promise<ContainmentActionResult> => {
      const result = await deps.containment.isolateEndpoint(request);
      log.info('Endpoint isolation', { status: result.status, provider: result.provider, target: result.target });
      return result;
    }),

    /**
     * Appends an audit record (idempotent per event key) and forwards it to the SIEM when configured. Every failure
     * is retried, including a refused SIEM token: the run waits, visibly, rather than acting unrecorded.
     */
    recordAuditEvent: async (event: AuditEvent): Promise<AuditReceipt> => {
      const receipt = await deps.audit.record(event);
      log.info('Audit record', { type: event.type, seq: receipt.seq, appended: receipt.appended, forwardedTo: deps.audit.forwardsTo });
      return receipt;
    },

    /** Publishes the final case report. */
    publishReport: translated(async (state: RunState): Promise<{ location: string }> => {
      const result = await deps.reports.publish(state);
      log.info('Case report published', { location: result.location, outcome: state.outcome });
      return result;
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
