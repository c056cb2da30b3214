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

/**
 * What a containment provider may use while it works: heartbeat details of an earlier attempt of the same activity
 * (so a retry or a new worker resumes instead of acting again), heartbeats, a cancellable sleep and the clock.
 * Activities build it from Temporal's activity context; tests build it directly.
 */
export interface ActionContext {
  /** The details of the last heartbeat an earlier attempt recorded, or undefined on a first attempt. */
  readonly resume: unknown;
  heartbeat(details: unknown): void;
  sleep(ms: number): Promise<void>;
  now(): number;
}

/**
 * A provider's answer. `done`: the vendor reports the final state now (`alreadyInState` when it was so before we
 * acted); `simulated`: dry run, nothing called; `refused`: a guard rail stopped it, nothing called that changes state.
 * `ref` carries what the undo needs (device IDs, a removed app assignment); never a secret.
 */
export interface ProviderOutcome {
  status: 'done' | 'simulated' | 'refused';
  detail: string;
  alreadyInState?: boolean;
  ref?: Record<string, string>;
}

export interface IsolationTarget {
  workflowId: string;
  host: string;
  /** The most devices one run may isolate; more matches than this refuse the action (guard rail). */
  maxDevices: number;
  /** On release: the `ref` the isolation returned. */
  ref?: Record<string, string>;
}

/** Endpoint isolation (EDR): verified, idempotent, resumable. */
export interface EndpointIsolationProvider {
  readonly name: string;
  isolate(target: IsolationTarget, ctx: ActionContext): Promise<ProviderOutcome>;
  release(target: IsolationTarget, ctx: ActionContext): Promise<ProviderOutcome>;
}

export interface AccessTarget {
  workflowId: string;
  user: string;
  destDomain: string;
  /** On restore: the `ref` the revocation returned. */
  ref?: Record<string, string>;
}

/** Cloud-storage access revocation at an identity provider or the storage service itself. */
export interface AccessRevocationProvider {
  readonly name: string;
  revoke(target: AccessTarget, ctx: ActionContext): Promise<ProviderOutcome>;
  restore(target: AccessTarget, ctx: ActionContext): Promise<ProviderOutcome>;
}

/** Where a containment that nobody confirmed in time is re-escalated (Tier 2). */
export interface EscalationNotifier {
  readonly name: string;
  escalate(notice: ContainmentEscalation): Promise<{ via: string }>;
}

export interface ContainmentEscalation {
  workflowId: string;
  reason: string;
  alert: NormalizedAlert;
  containment: ContainmentActionResult[];
}

export interface ReportSink {
  readonly name: string;
  publish(state: RunState): Promise<{ location: string }>;
}
