/**
 * Types shared by the workflow, the activities, the HTTP API and the CLI. Plain types only: the workflow bundle
 * imports this file with `import type`, and every value crossing a process edge is validated elsewhere with zod.
 */
import type { SearchAttributePair } from '@temporalio/common';
import type { OrgIdentity } from '../identity/canonical';
import type { NormalizedAlert } from './alert';

/** An enrichment result: a value, or `unknown` with the reason (a connector failed permanently or had no record). */
export type Finding<T> = { status: 'ok'; source: string; value: T } | { status: 'unknown'; source: string; reason: string };

export interface DomainFinding {
  /** The destination host as the URL parser sees it: lowercased, punycode (A-label), no trailing dot. */
  host: string;
  /** Whether the host is one of the organisation's approved cloud-storage domains (exact or dot-suffix). */
  approved: boolean;
  matchedApprovedDomain: string | null;
  /** The known cloud-storage service the host belongs to, if any (e.g. "Dropbox"). */
  cloudStorageService: string | null;
  isIpLiteral: boolean;
}

export const EMPLOYMENT_STATUSES = ['active', 'on-leave', 'on-notice', 'terminated'] as const;
export type EmploymentStatus = (typeof EMPLOYMENT_STATUSES)[number];

export interface HrFinding {
  user: string;
  displayName: string;
  department: string;
  title: string;
  groups: string[];
  employmentStatus: EmploymentStatus;
  /** The manager's user name; the manager may not approve containment of their own report. */
  manager: string | null;
  /** IANA time zone, e.g. "Europe/Berlin". */
  timezone: string;
  cloudStorageAuthorized: boolean;
}

export const CHANGE_KINDS = ['exception', 'pilot', 'policy-change', 'configuration-change'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface PolicyChangeRecord {
  id: string;
  kind: ChangeKind;
  title: string;
  approved: boolean;
  /** Users and groups the change covers; empty lists mean "nobody", never "everybody". */
  users: string[];
  groups: string[];
  /** Destination domains the change covers (exact or dot-suffix). */
  domains: string[];
  validFrom: string;
  validTo: string | null;
}

export interface PolicyChangesFinding {
  windowDays: number;
  records: PolicyChangeRecord[];
}

export interface DeviceFinding {
  host: string;
  managed: boolean;
  owner: string | null;
  cloudStorageAllowed: boolean;
  /** What the inventory said that led to these verdicts (e.g. Intune compliance state), for the decision record. */
  detail?: string;
}

export interface BaselineFinding {
  user: string;
  /** Days of history the mean and deviation are computed over. */
  days: number;
  meanBytes: number;
  stdDevBytes: number;
  /**
   * The event's day in the user's time zone (the day boundary the 30 days use too) and what the source knows the
   * user uploaded that day before this upload. Absent in findings recorded before the volume rule counted the day
   * (rule version t1567.002-rules/1).
   */
  day?: BaselineDay;
}

export interface BaselineDay {
  timezone: string;
  timezoneSource: 'hr' | 'organisation-default';
  /** Local calendar date, YYYY-MM-DD, and its bounds as UTC instants. */
  date: string;
  start: string;
  end: string;
  /** Bytes the user uploaded that day before the event, as the source knows them (the case's own alerts excluded). */
  priorBytes: number;
  /** Where `priorBytes` comes from, e.g. "elasticsearch day so far" or "file data + 2 recorded alert(s)". */
  priorFrom: string;
}

export interface BusinessHoursFinding {
  timezone: string;
  timezoneSource: 'hr' | 'organisation-default';
  /** Event time in the user's time zone, e.g. "2026-11-28T02:14:00+01:00". */
  localTime: string;
  weekday: string;
  withinBusinessHours: boolean;
  /** Why it is or is not within business hours ("Saturday", "holiday: New Year", "before 09:00"). */
  reason: string;
}

export interface Enrichment {
  domain: Finding<DomainFinding>;
  hr: Finding<HrFinding>;
  policyChanges: Finding<PolicyChangesFinding>;
  device: Finding<DeviceFinding>;
  baseline: Finding<BaselineFinding>;
  businessHours: Finding<BusinessHoursFinding>;
}

export interface DecisionPolicy {
  zScoreThreshold: number;
  multiplierThreshold: number;
  minHistoryDays: number;
  volumeFloorBytes: number;
  escalateDepartingEmployees: boolean;
}

export type RuleVerdict = 'fired' | 'not-fired' | 'unknown';

export interface RuleEvaluation {
  rule: string;
  description: string;
  /** `unknown` means an input was missing; unknown counts as fired (fail closed) where the rule escalates. */
  verdict: RuleVerdict;
  inputs: Record<string, string | number | boolean | null>;
  threshold: string | null;
  explanation: string;
}

export type DecisionOutcome = 'escalate' | 'review' | 'benign';

export interface Justification {
  id: string;
  kind: ChangeKind;
  title: string;
}

export interface DecisionRecord {
  outcome: DecisionOutcome;
  ruleVersion: string;
  /** The rules that produced the outcome (fired, or unknown and so counted: fail closed). */
  triggeredBy: string[];
  /** One line per reason the outcome was reached, in the order the rules were evaluated. */
  reasons: string[];
  rules: RuleEvaluation[];
  justification: Justification | null;
  /** The seed's "Questions for Analysis", answered from the findings. */
  questionsForAnalysis: {
    legitimateBusinessNeed: string;
    deviceAuthorized: string;
    volumeAtypical: string;
    recentPolicyChanges: string;
  };
}

/**
 * `pending` until decided; `false-positive` closes the run without containment, recorded apart from `denied`;
 * `expired` when the final deadline passed with no decision (fail closed).
 */
export type ApprovalStatus = 'not-required' | 'pending' | 'approved' | 'denied' | 'false-positive' | 'expired';

export type ApprovalDecisionKind = 'approve' | 'deny' | 'false-positive';

/** One containment action exactly as the approver is asked to authorise it. */
export interface ProposedAction {
  action: ContainmentActionName;
  /** The account or the device. */
  target: string;
  /** The containment provider that will act. */
  provider: string;
}

/**
 * Someone who may decide in Slack, resolved when the request is made (a snapshot: the Update validator must be
 * deterministic, so it never calls Slack). `name` is the directory user name the Slack user maps to, compared with
 * the alert's subject and their manager; null when it could not be resolved, and then the user may not decide.
 */
export interface SlackApprover {
  userId: string;
  name: string | null;
  nameSource: 'mapping' | 'email' | null;
  /** How they became an approver: listed by ID, a member of an approver group, or of the escalation group. */
  via: 'user' | 'group' | 'escalation-group';
  group: string | null;
}

export interface SlackMessageRef {
  channel: string;
  ts: string;
}

/** Where a Slack click came from, as Slack's signed payload states it. */
export interface SlackDecisionContext {
  teamId: string;
  channelId: string;
  messageTs: string;
  userId: string;
  /** Slack's `username` for the clicker (display only; identity is `userId`). */
  userName: string;
  actionId: string;
  actionTs: string;
}

/** One accepted decision, as recorded: who, when, through what, and what they were shown (the digest). */
export interface ApprovalRecord {
  requestId: string;
  decision: ApprovalDecisionKind;
  /** With `approve`: the actions this approver authorised. */
  actions: ContainmentActionName[] | null;
  /** The CLI approver ID, or the Slack user ID. */
  approver: string;
  /** The directory user name the approver maps to (the CLI ID itself for CLI decisions). */
  approverName: string;
  via: 'cli' | 'slack';
  at: string;
  comment: string | null;
  /** The digest of the request the approver saw; null for CLI decisions that did not name one. */
  digest: string | null;
  slack: SlackDecisionContext | null;
}

export interface ApprovalState {
  status: ApprovalStatus;
  requestId: string | null;
  requestedAt: string | null;
  /** The final deadline: after it the request authorises nothing. */
  expiresAt: string | null;
  /** End of the approval window: the request escalates then (when a later deadline leaves room for it). */
  escalateAt: string | null;
  escalatedAt: string | null;
  remindersSent: number;
  /** SHA-256 over the canonical proposed actions and evidence; a click must carry it. */
  digest: string | null;
  proposedActions: ProposedAction[] | null;
  /** Where the request was sent ("log" when no Slack is configured). */
  notifiedVia: string | null;
  /** Why the request could not be delivered, when it could not (the run still waits; the CLI still works). */
  notifyError: string | null;
  /** The Slack message and approver snapshot, when the request went to Slack. */
  slack: { message: SlackMessageRef | null; escalationMessage: SlackMessageRef | null; approvers: SlackApprover[] } | null;
  /** With the two-person rule: an approval that includes isolation waits for a second, different approver. */
  awaitingSecondApproval: boolean;
  /**
   * Why the decision recorded so far waits for a second, different approver: endpoint isolation under the two-person
   * rule, or the subject's manager is unknown (then every decision needs two). Null or absent when nothing waits.
   */
  awaitingSecondBecause?: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  via: 'cli' | 'slack' | null;
  comment: string | null;
  /** What the approval covers: containment runs only these actions. Null until approved. */
  approvedActions: ContainmentActionName[] | null;
  /** Every accepted decision, in order (more than one only under the two-person rule). */
  decisions: ApprovalRecord[];
  /**
   * Digests this request was bound to before it was re-bound (an alert joined the waiting case and changed what the
   * approver is shown): a click carrying one is refused with the reason. Absent in runs started before re-binding.
   */
  superseded?: { digest: string; reason: string; at: string }[];
  /**
   * First approvals of a two-approver request that a re-bind voided: they authorised the earlier total, so the
   * re-bound request needs its approvers again. Absent when nothing was voided.
   */
  voidedDecisions?: ApprovalRecord[];
}

export const CONTAINMENT_ACTIONS = ['revoke-cloud-storage-access', 'isolate-endpoint'] as const;
export type ContainmentActionName = (typeof CONTAINMENT_ACTIONS)[number];
/** The undo of each containment action (the release path). */
export const RELEASE_ACTIONS = ['restore-cloud-storage-access', 'lift-endpoint-isolation'] as const;
export type ReleaseActionName = (typeof RELEASE_ACTIONS)[number];

/**
 * `done`: the vendor reports the final state (verified, not merely accepted). `simulated`: a dry-run connector
 * recorded what it would do and called nothing real. `refused`: a guard rail (protected account or device, too many
 * devices) stopped the action and the case was escalated; nothing was changed. `failed`: permanently failed.
 */
export type ContainmentStatus = 'done' | 'simulated' | 'failed' | 'skipped' | 'refused';

export interface ContainmentActionResult {
  action: ContainmentActionName | ReleaseActionName;
  target: string;
  provider: string;
  status: ContainmentStatus;
  detail: string;
  at: string;
  /** True when the target was already in the final state before this run acted (counts as done). */
  alreadyInState?: boolean;
  /**
   * Who made the change this result reports: `this-run` (including a request whose answer was lost to a crash or a
   * 5xx and that a retry verified), `someone-else` (it was so before this run asked, or another party did it), or
   * `nobody` (nothing changed). Absent in results recorded before it existed.
   */
  changedBy?: 'this-run' | 'someone-else' | 'nobody';
  /** What the undo needs (vendor device IDs, a removed app assignment). Never a secret. */
  ref?: Record<string, string>;
}

/** The release (undo) path: requested through an Update with the approver rules, run as durable steps. */
export interface ReleaseState {
  status: 'not-requested' | 'releasing' | 'released' | 'partially-released' | 'release-failed' | 'window-closed';
  requestedBy: string | null;
  requestedAt: string | null;
  via: 'cli' | 'slack' | null;
  comment: string | null;
  /** Until when a release may be requested; null when the run does not hold for release. */
  windowEndsAt: string | null;
  /**
   * With the subject's manager unknown, a release needs two different people: the first one's directory name, waiting
   * for the second. Null or absent otherwise.
   */
  firstRequestBy?: string | null;
  results: ContainmentActionResult[];
}

/** The containment lease: containment no one confirmed within the lease is re-escalated to Tier 2. */
export interface LeaseState {
  status: 'none' | 'unconfirmed' | 'confirmed' | 're-escalated';
  expiresAt: string | null;
  confirmedBy: string | null;
  confirmedAt: string | null;
  escalatedAt: string | null;
  escalatedVia: string | null;
  /** With the subject's manager unknown, a confirmation needs two different people: the first, waiting for the second. */
  firstConfirmBy?: string | null;
}

/** A protected target the playbook refused to contain, escalated to Tier 2 instead. */
export interface GuardRailEscalation {
  action: ContainmentActionName;
  target: string;
  reason: string;
  at: string;
}

/** Containment settings snapshotted into each run. */
export interface ContainmentPolicy {
  /** The configured isolation provider and access providers (several may run). */
  isolationProvider: string;
  accessProviders: string[];
  /** Accounts and devices never contained (exact, case-insensitive; `*` matches any run of characters). */
  protectedAccounts: string[];
  protectedDevices: string[];
  maxDevicesPerRun: number;
  /** How long the run stays open after containment so it can be released; 0: it closes right away. */
  releaseWindowMs: number;
  /** Re-escalate to Tier 2 if no one confirmed containment within this; 0: no lease. */
  leaseMs: number;
  /** How the containment activities are timed: heartbeat timeout and the overall verification budget. */
  heartbeatTimeoutMs: number;
  verifyTimeoutMs: number;
}

export type PlaybookStage =
  | 'enriching'
  | 'deciding'
  | 'awaiting-approval'
  | 'containing'
  /** Contained and holding: a release may be requested, the lease may run. */
  | 'contained'
  | 'releasing'
  | 'reporting'
  | 'closed';

export type RunOutcome =
  | 'benign'
  | 'review'
  | 'contained'
  /** Containment succeeded, but at least one action was a dry run: nothing real was called for it. */
  | 'containment-simulated'
  | 'partially-contained'
  | 'containment-failed'
  /** Every approved action was refused by a guard rail (protected target): escalated to Tier 2, nothing changed. */
  | 'containment-refused'
  | 'denied'
  /** An approver marked the alert a false positive: closed without containment. */
  | 'false-positive'
  | 'approval-expired';

/**
 * One alert in a case. The first (`opened`) is the run's `alert`; later ones for the same user and destination
 * service `joined` the open case as evidence (see docs/api/webhooks.md, "Duplicates and cases").
 */
export interface CaseAlert {
  role: 'opened' | 'joined';
  source: NormalizedAlert['source'];
  alertId: string;
  eventTime: string;
  bytesOut: number;
  destDomain: string;
  destUrl: string | null;
  host: string;
  srcIp: string;
  severity: NormalizedAlert['severity'];
  ruleName: string;
  /** When the case recorded it (workflow time). */
  recordedAt: string;
  /** The case's stage when it arrived: an alert after `deciding` is evidence only, it did not inform the decision. */
  stageOnArrival: PlaybookStage;
  /** The SIEM payload of a joined alert (the opening alert's is `alert.raw`). */
  raw?: unknown;
}

/**
 * The case's volume as the volume rule counts it (rule version /2): the user's day so far before this case, plus the
 * case's own uploads that day. Updated when an alert joins a case waiting for approval (the request is re-bound).
 */
export interface CaseVolume {
  /** The local day and its time zone; null when the baseline source could not say. */
  day: string | null;
  timezone: string | null;
  /** What the baseline source knew of the day before this case; null when unknown. */
  priorBytes: number | null;
  /** The case's uploads on that day (all of them when the day is unknown). */
  caseBytes: number;
  caseUploads: number;
  /** priorBytes + caseBytes; null when priorBytes is unknown. */
  dayBytes: number | null;
  /** When the figures were last updated (workflow time). */
  updatedAt: string;
}

export interface RunState {
  workflowId: string;
  playbook: 'T1567.002';
  stage: PlaybookStage;
  /** `running` until the run closes; then the outcome is set. */
  status: 'running' | 'closed';
  outcome: RunOutcome | null;
  alert: NormalizedAlert;
  /** Every alert in this case, the opening one first. */
  alerts: CaseAlert[];
  enrichment: Partial<Enrichment>;
  decision: DecisionRecord | null;
  /** The volume the decision counted, and later joins (rule version /2); absent in runs started before it. */
  volume?: CaseVolume;
  approval: ApprovalState;
  containment: ContainmentActionResult[];
  /** Protected targets the playbook refused to contain. */
  escalations: GuardRailEscalation[];
  release: ReleaseState;
  lease: LeaseState;
  startedAt: string;
  closedAt: string | null;
  report: PlaybookReport | null;
}

export interface PlaybookReport {
  /** One line stating the case. */
  summary: string;
  /** The whole report as Markdown, for humans. */
  markdown: string;
  /** What remains for a Tier 2 analyst (from the seed). */
  remainingT2Actions: string[];
}

export interface ApproverRef {
  id: string;
  name: string;
}

/** Settings snapshotted into each run at start, so the run's behaviour does not change under it mid-flight. */
export interface PlaybookPolicy {
  decision: DecisionPolicy;
  approval: {
    /** The approval window: after it the request escalates (when `deadlineMs` is later). */
    timeoutMs: number;
    /** The final deadline, from the request: the request expires then. Never earlier than `timeoutMs`. */
    deadlineMs: number;
    /** Reminders in the request's thread at this interval; null for none. */
    reminderIntervalMs: number | null;
    /** Endpoint isolation needs approvals from two different approvers. */
    twoPersonIsolation: boolean;
    /** Who may decide from the CLI (Slack approvers are resolved per request: see SlackApprover). */
    approvers: ApproverRef[];
  };
  containment: ContainmentPolicy;
  /**
   * The organisation's domains and NetBIOS names, for the canonical identity of every name the approver rules
   * compare (src/identity/canonical.ts). Absent in runs started before it existed: then only case, whitespace and
   * Unicode forms are folded.
   */
  identity?: OrgIdentity;
  /**
   * Where each vendor-backed lookup runs (runs of patch set `playbook-2026-12c`, workflows/patches.ts): `local`, a
   * local activity in the run's workflow task, for a source the worker reads itself (`file`); `activity`, an ordinary
   * activity, for a vendor's API. Absent in runs started before it existed: every lookup is an ordinary activity.
   */
  lookups?: LookupPlacement;
}

/** The enrichment sources whose lookups can run either way (the keys of `enrichment` in the configuration). */
export type LookupSource = 'hr' | 'changes' | 'devices' | 'baselines';
export type LookupPlacement = Record<LookupSource, 'local' | 'activity'>;

export interface PlaybookInput {
  alert: NormalizedAlert;
  policy: PlaybookPolicy;
}

export interface ApprovalDecisionInput {
  requestId: string;
  decision: ApprovalDecisionKind;
  /** With `approve`: the actions approved; all of them when omitted. */
  actions?: ContainmentActionName[];
  /** The CLI approver ID, or (via Slack) the Slack user ID. */
  approver: string;
  via: 'cli' | 'slack';
  comment?: string;
  /** The digest of the request the approver was shown. Required via Slack; checked when given. */
  digest?: string;
  /** Required via Slack. */
  slack?: SlackDecisionContext;
}

/** What `routeAlert` answers: the case the alert belongs to, and whether it was already known. */
export interface RouteAlertResult {
  workflowId: string;
  /** The same alert (source and dedup key) was recorded before: nothing new was started or added. */
  duplicate: boolean;
  /** The alert joined a case that was already open, as additional evidence. */
  joined: boolean;
}

/** Where a case index routed an alert, as its `alertRouting` query tells it (GET /alerts/...). */
export interface AlertRouting {
  /** The case (playbook run) that holds the alert. */
  workflowId: string;
  /** The alert joined a case another alert opened (false: the alert opened this case itself). */
  joined: boolean;
}

export interface RouteAlertRequest {
  alert: NormalizedAlert;
  policy: PlaybookPolicy;
}

/** How a case's run is started (`caseStartOptions`, workflows/case-summary.ts); the case index hands it to its activity. */
export interface CaseStartOptions {
  workflowId: string;
  staticSummary: string;
  staticDetails: string;
  memo: Record<string, unknown>;
  typedSearchAttributes: SearchAttributePair[];
}

export interface CaseIndexInput {
  /** Lowercased user and destination service: the case key. */
  user: string;
  service: string;
  /** How long after the last alert the index stays, remembering what it has seen. */
  dedupWindowMs: number;
  /** The task queue of the cases this index starts; absent (older indexes): the index's own queue. */
  caseTaskQueue?: string;
  /** Carried over continue-as-new: dedup key -> the case workflow ID and when it was seen (epoch ms). */
  seen?: [string, { workflowId: string; at: number }][];
  /** Carried over continue-as-new by indexes that start cases by activity: the case last opened, and its alerts. */
  openCase?: { workflowId: string; alerts: number };
}

export interface ContainmentRequest {
  workflowId: string;
  alertId: string;
  user: string;
  host: string;
  destDomain: string;
  /** The configured provider that performs this action. */
  provider: string;
  maxDevices: number;
  /** On release: the `ref` of the containment result being undone. */
  ref?: Record<string, string>;
  /**
   * What was found before the step changed anything, recorded in the run's history by a separate activity first:
   * an isolation plan (`prepareEndpointIsolation`) or an access provider's observation (`observeCloudStorageAccess`).
   */
  plan?: IsolationPlanRecord;
  before?: Record<string, string>;
}

/** The isolation plan as the workflow carries it (see IsolationPlan in ports.ts). */
export interface IsolationPlanRecord {
  deviceIds: string[];
  hostnames: string[];
  before: Record<string, 'normal' | 'isolating' | 'isolated' | 'releasing'>;
  preparedAt: number;
}

/** A release (or a confirmation) of the containment by a human, checked with the approver rules. */
export interface ContainmentReviewInput {
  approver: string;
  via: 'cli' | 'slack';
  comment?: string;
  /**
   * A Slack click ("Release containment" on the run's approval message): the digest the button carries and where
   * the click came from, checked like an approval click's (this run's message, the clicker is the approver).
   */
  digest?: string;
  slack?: SlackDecisionContext;
}
