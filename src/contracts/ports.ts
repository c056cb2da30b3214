/**
 * The seams between activities and the outside world. Each port has a file-backed implementation (the embedded
 * default) and, in later work, real vendor implementations; activities receive them injected.
 * Every method returns `null` when the provider has no record and throws a ConnectorError when it fails.
 */
import type { NormalizedAlert } from './alert';
import type {
  ApprovalState,
  ApproverRef,
  BaselineFinding,
  CaseVolume,
  ContainmentActionResult,
  DecisionRecord,
  DeviceFinding,
  Enrichment,
  HrFinding,
  IsolationPlanRecord,
  PolicyChangeRecord,
  ProposedAction,
  RunState,
  SlackApprover,
  SlackMessageRef,
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
  /**
   * Daily volumes over the 30 days before `asOf` (an ISO time, the event time; default now). With `day`, the days
   * are the user's local days and the finding carries `day`: what the user uploaded on the event's day before it.
   */
  baselineFor(user: string, asOf?: string, day?: DayQuery): Promise<BaselineFinding | null>;
}

/** The day boundary, and what this worker has recorded (sources without the day in their data add it). */
export interface DayQuery {
  timezone: string;
  timezoneSource: 'hr' | 'organisation-default';
  recorded: RecordedUploads;
}

/** One upload an alert reported, as a case recorded it. */
export interface RecordedUpload {
  source: string;
  alertId: string;
  eventTime: string;
  bytesOut: number;
}

/** The uploads of the alerts the playbook has recorded for a user (every case, every worker), e.g. in Temporal. */
export interface RecordedUploads {
  readonly name: string;
  /** Alerts with an event time in [from, to), each once; the asking case's own alerts are left out (it counts them). */
  uploadsOf(user: string, window: { from: string; to: string }): Promise<RecordedUpload[]>;
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
  enrichment: Partial<Enrichment>;
  decision: DecisionRecord;
  proposedActions: ProposedAction[];
  /** What the approver is shown is bound to this digest; a click must carry it back. */
  digest: string;
  requestedAt: string;
  expiresAt: string;
  escalateAt: string | null;
  approvers: ApproverRef[];
  twoPersonIsolation: boolean;
  /**
   * Set when the subject's relation to the approvers cannot be established (no HR record, no manager): why, and so
   * every decision needs two different approvers. Absent or null otherwise.
   */
  twoApproversBecause?: string | null;
  /** The case's volume, this upload and the day so far (rule version /2); updated when an alert joins (re-bound). */
  volume?: CaseVolume;
}

/** Where the request went: `message` is set when it is a chat message that later updates edit in place. */
export interface ApprovalNotice {
  via: string;
  message: SlackMessageRef | null;
}

/** The run moved on: the notifier edits the request in place and reports progress next to it. */
export interface ApprovalProgress {
  request: ApprovalRequest;
  message: SlackMessageRef | null;
  escalationMessage: SlackMessageRef | null;
  /** `rebound`: an alert joined the waiting case; the request (and its buttons) now carry the new total and digest. */
  stage: 'awaiting-second-approval' | 'rebound' | 'decided' | 'expired' | 'contained' | 'containment-failed';
  approval: ApprovalState;
  containment: ContainmentActionResult[];
  /** The run holds its containment for release: the contained message offers a "Release containment" button. */
  releasable?: boolean;
}

export interface ApprovalNotifier {
  readonly name: string;
  /** Who may decide through this notifier, resolved now (null when decisions come only from the CLI). */
  resolveApprovers(): Promise<SlackApprover[] | null>;
  requestApproval(request: ApprovalRequest): Promise<ApprovalNotice>;
  /** A reminder next to the request (in its thread). */
  remind(request: ApprovalRequest, message: SlackMessageRef | null, remindersSent: number): Promise<void>;
  /** The approval window passed: the request goes to the escalation channel or group. */
  escalate(request: ApprovalRequest, message: SlackMessageRef | null): Promise<{ message: SlackMessageRef | null }>;
  publishProgress(progress: ApprovalProgress): Promise<void>;
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
  /** Who changed the target: default `this-run` when done and not already in state, else `someone-else`. */
  changedBy?: ChangedBy;
  ref?: Record<string, string>;
}

/** Who made the change a result reports: this run, someone (or something) else, or nobody (nothing changed). */
export type ChangedBy = 'this-run' | 'someone-else' | 'nobody';

/**
 * What an isolation provider found before this run asked for anything, recorded in the run's history (an activity
 * result) BEFORE the request, so that a retry after a crash or a lost answer can tell "this run did it" from "it
 * was so before this run asked": a device found in the goal state counts as this run's doing unless `before` says
 * it was already there.
 */
export type IsolationPlan = IsolationPlanRecord;

export interface IsolationTarget {
  workflowId: string;
  host: string;
  /** The most devices one run may isolate; more matches than this refuse the action (guard rail). */
  maxDevices: number;
  /** On release: the `ref` the isolation returned. */
  ref?: Record<string, string>;
  /** The plan `prepare` returned (recorded before the request); absent in runs started before plans existed. */
  plan?: IsolationPlan;
}

/** Endpoint isolation (EDR): verified, idempotent, resumable. */
export interface EndpointIsolationProvider {
  readonly name: string;
  /**
   * Looks the devices up and records their state before anything is asked (read-only). Returns a refusal instead
   * when a guard rail stops the action (more devices than allowed). Providers without vendor state (dry run) omit it.
   */
  prepare?(direction: IsolationDirection, target: IsolationTarget): Promise<{ plan: IsolationPlan } | { outcome: ProviderOutcome }>;
  isolate(target: IsolationTarget, ctx: ActionContext): Promise<ProviderOutcome>;
  release(target: IsolationTarget, ctx: ActionContext): Promise<ProviderOutcome>;
}

/** Where a device stands on the way into or out of network isolation, as its EDR vendor reports it. */
export type DeviceIsolationState = 'normal' | 'isolating' | 'isolated' | 'releasing';
export type IsolationDirection = 'isolate' | 'release';

/**
 * The vendor-specific half of verified isolation: four calls an EDR connector supplies. The shared procedure
 * (src/containment/verified-isolation.ts) turns them into an EndpointIsolationProvider.
 */
export interface IsolationOps {
  readonly provider: string;
  /** Devices whose host name is exactly `host` (case-insensitive). */
  findDevices(host: string): Promise<{ id: string; hostname: string }[]>;
  /**
   * The device's isolation state; with the ID of the action we requested, its progress. Throws
   * ConnectorActionFailedError when the vendor reports that the action failed.
   */
  state(deviceId: string, actionId: string | null, direction: IsolationDirection): Promise<DeviceIsolationState>;
  /** Asks the vendor to isolate or release. Returns the vendor's action ID where it has one. */
  request(direction: IsolationDirection, deviceId: string, comment: string): Promise<{ actionId: string | null }>;
  /**
   * Vendors that record who asked (Defender's machine actions carry `requestorComment`): this run's own request for
   * the device in this direction, found by the workflow ID the comment carries; null when this run asked nothing.
   * With it, a device found in the goal state is credited to this run only when the vendor shows this run's request.
   */
  findOwnRequest?(deviceId: string, direction: IsolationDirection, workflowId: string): Promise<{ actionId: string } | null>;
}

export interface AccessTarget {
  workflowId: string;
  user: string;
  destDomain: string;
  /** On restore: the `ref` the revocation returned. */
  ref?: Record<string, string>;
  /** What `observe` recorded before this step changed anything; absent in runs started before it existed. */
  before?: Record<string, string>;
}

/** Cloud-storage access revocation at an identity provider or the storage service itself. */
export interface AccessRevocationProvider {
  readonly name: string;
  /**
   * Providers whose undo depends on what was changed (an app assignment, a suspension) read the state they are
   * about to change, read-only; the run records it before `revoke` / `restore` runs, so a change whose answer was
   * lost (crash, 5xx) is still credited to this run, and a state that was already so is not.
   */
  observe?(direction: 'revoke' | 'restore', target: AccessTarget): Promise<Record<string, string>>;
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

/** What an audit forwarder needs of a record of the hash-chained audit log (src/audit/audit-log.ts writes them). */
export interface ForwardedAuditRecord {
  seq: number;
  recordedAt: string;
  /** SHA-256 of the record: its identity at the SIEM, so a re-sent record overwrites itself. */
  hash: string;
}

/** Sends each audit record to the SIEM as well (Splunk HEC, Elasticsearch), after the local chain has it. */
export interface AuditForwarder {
  readonly name: string;
  forward(record: ForwardedAuditRecord): Promise<void>;
}
