/**
 * The seams between activities and the outside world. Each port has a file-backed implementation (the embedded
 * default) and, in later work, real vendor implementations; activities receive them injected.
 * Every method returns `null` when the provider has no record and throws a ConnectorError when it fails.
 */
import type { NormalizedAlert } from './alert';
import type {
  ApproverRef,
  BaselineFinding,
  ContainmentActionResult,
  ContainmentRequest,
  DecisionRecord,
  DeviceFinding,
  HrFinding,
  PolicyChangeRecord,
  RunState,
} from './playbook';

export interface Sourced<T> {
  /** The provider that answered, e.g. "local-files:hr-directory". */
  source: string;
  value: T;
}

export interface CloudStorageCatalog {
  readonly name: string;
  /** Approved corporate domains or tenants. */
  approvedDomains(): Promise<string[]>;
  /** Known cloud-storage services and all their upload domains. */
  knownServices(): Promise<{ name: string; domains: string[] }[]>;
}

export interface HrDirectory {
  readonly name: string;
  lookupUser(user: string): Promise<HrFinding | null>;
}

export interface ChangeRecords {
  readonly name: string;
  /** Approved or pending changes, exceptions and pilots related to cloud storage in [since, until]. */
  listCloudStorageChanges(window: { since: string; until: string }): Promise<PolicyChangeRecord[]>;
}

export interface DeviceInventory {
  readonly name: string;
  lookupDevice(host: string): Promise<DeviceFinding | null>;
}

export interface UploadBaselines {
  readonly name: string;
  /** Daily volumes over the 30 days before `asOf` (an ISO time, the event time; default now). */
  baselineFor(user: string, asOf?: string): Promise<BaselineFinding | null>;
}

export interface BusinessHoursPolicy {
  defaultTimezone: string;
  /** ISO weekday numbers, 1 = Monday ... 7 = Sunday. */
  days: number[];
  start: string;
  end: string;
  holidays: { date: string; name: string }[];
}

export interface ApprovalRequest {
  workflowId: string;
  requestId: string;
  alert: NormalizedAlert;
  decision: DecisionRecord;
  expiresAt: string;
  approvers: ApproverRef[];
}

export interface ApprovalNotifier {
  readonly name: string;
  requestApproval(request: ApprovalRequest): Promise<{ via: string }>;
}

export interface ContainmentProvider {
  readonly name: string;
  /** Idempotent: a second call for the same run returns the first call's result and acts no more. */
  revokeCloudStorageAccess(request: ContainmentRequest): Promise<ContainmentActionResult>;
  isolateEndpoint(request: ContainmentRequest): Promise<ContainmentActionResult>;
}

export interface ReportSink {
  readonly name: string;
  publish(state: RunState): Promise<{ location: string }>;
}
