/**
 * The T1567.002 escalation decision: a pure, deterministic function of the findings and the policy. No I/O, no
 * clock: it runs inside the workflow (so replays reach the same verdict) and in unit tests alike.
 *
 * The seed's rule: "Escalate to Tier 2 if the data transfer is from a device not authorized to access cloud storage
 * services, if the volume of data transferred is significantly out of norm, or if the data transfer was initiated
 * during non-business hours without a valid business justification."
 */
import type { NormalizedAlert } from '../src/contracts/alert';
import type {
  DecisionOutcome,
  DecisionPolicy,
  DecisionRecord,
  Enrichment,
  Justification,
  PolicyChangeRecord,
  RuleEvaluation,
} from '../src/contracts/playbook';
import { formatBytes } from '../src/format';

// Formatting lives in src/format.ts so connectors can use it without importing workflow code.
export { destinationHostShown, formatBytes } from '../src/format';

/**
 * Bump when a rule's meaning changes; recorded in every decision so old records stay interpretable.
 * - /1: the volume rule compared the alert's single upload with the daily baseline (UTC days).
 * - /2: it compares this upload and the user's total for the event's day so far (local days, the same boundary for
 *   the baseline), counting the case's own alerts; it fires on either.
 */
export const RULE_VERSION = 't1567.002-rules/2';
/** The version decisions of runs started before /2 still record (they replay the old rule). */
export const RULE_VERSION_SINGLE_UPLOAD = 't1567.002-rules/1';

/** One upload the case recorded (the opening alert's and those that joined before the decision). */
export interface CaseUpload {
  eventTime: string;
  bytesOut: number;
}

export const DEFAULT_DECISION_POLICY: DecisionPolicy = {
  zScoreThreshold: 3,
  multiplierThreshold: 10,
  minHistoryDays: 7,
  volumeFloorBytes: 50 * 1024 * 1024,
  escalateDepartingEmployees: true,
};

/** Lowercase, strip one trailing dot: the same normalisation the domain enrichment applies. */
function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Exact or dot-suffix match: `eu.dropbox.com` is covered by `dropbox.com`, `evil-dropbox.com` is not. */
export function hostCoveredBy(host: string, domain: string): boolean {
  const h = normaliseHost(host);
  const d = normaliseHost(domain);
  return d.length > 0 && (h === d || h.endsWith(`.${d}`));
}

/**
 * An approved exception, pilot or policy change that covers this user (or one of their groups or their
 * department) and this destination at the event time.
 */
export function findJustification(
  alert: NormalizedAlert,
  enrichment: Enrichment,
): { justification: Justification | null; considered: number } {
  if (enrichment.policyChanges.status !== 'ok') return { justification: null, considered: 0 };
  const host = enrichment.domain.status === 'ok' ? enrichment.domain.value.host : alert.destDomain;
  const hr = enrichment.hr.status === 'ok' ? enrichment.hr.value : null;
  const memberships = new Set(hr ? [...hr.groups, hr.department].map((g) => g.toLowerCase()) : []);
  const eventTime = Date.parse(alert.eventTime);
  const covers = (record: PolicyChangeRecord): boolean =>
    record.approved &&
    (record.users.some((u) => u.toLowerCase() === alert.user.toLowerCase()) ||
      record.groups.some((g) => memberships.has(g.toLowerCase()))) &&
    record.domains.some((d) => hostCoveredBy(host, d)) &&
    Date.parse(record.validFrom) <= eventTime &&
    (record.validTo === null || eventTime <= Date.parse(record.validTo));
  const records = enrichment.policyChanges.value.records;
  const match = records.find(covers);
  return {
    justification: match ? { id: match.id, kind: match.kind, title: match.title } : null,
    considered: records.length,
  };
}

function unknownReason(finding: { status: 'unknown'; reason: string }): string {
  return `unknown (${finding.reason})`;
}

function deviceRule(enrichment: Enrichment): RuleEvaluation {
  const base = {
    rule: 'device-not-authorized',
    description: 'The transfer came from a device not authorized to access cloud storage services.',
    threshold: null,
  };
  const device = enrichment.device;
  if (device.status !== 'ok') {
    return {
      ...base,
      verdict: 'unknown',
      inputs: { device: null },
      explanation: `Device authorization is ${unknownReason(device)}; treated as not authorized.`,
    };
  }
  const d = device.value;
  const authorized = d.managed && d.cloudStorageAllowed;
  return {
    ...base,
    verdict: authorized ? 'not-fired' : 'fired',
    inputs: {
      host: d.host,
      managed: d.managed,
      cloudStorageAllowed: d.cloudStorageAllowed,
      owner: d.owner,
      ...(d.detail ? { inventory: d.detail } : {}),
    },
    explanation:
      (authorized
        ? `${d.host} is a managed device allowed to use cloud storage`
        : `${d.host} is ${d.managed ? 'managed but not allowed to use cloud storage' : 'not a managed device'}`) +
      (d.detail ? ` (${d.detail}).` : '.'),
  };
}

function volumeRule(alert: NormalizedAlert, enrichment: Enrichment, policy: DecisionPolicy): RuleEvaluation {
  const base = {
    rule: 'volume-out-of-norm',
    description: "The volume transferred is significantly out of the user's norm.",
  };
  const bytes = alert.bytesOut;
  const floor = `volumes under ${formatBytes(policy.volumeFloorBytes)} never count`;
  if (bytes < policy.volumeFloorBytes) {
    return {
      ...base,
      verdict: 'not-fired',
      inputs: { bytesOut: bytes, volumeFloorBytes: policy.volumeFloorBytes },
      threshold: floor,
      explanation: `${formatBytes(bytes)} is under the ${formatBytes(policy.volumeFloorBytes)} floor.`,
    };
  }
  const baseline = enrichment.baseline;
  if (baseline.status !== 'ok') {
    return {
      ...base,
      verdict: 'unknown',
      inputs: { bytesOut: bytes, volumeFloorBytes: policy.volumeFloorBytes },
      threshold: floor,
      explanation: `The user's baseline is ${unknownReason(baseline)}; ${formatBytes(bytes)} treated as out of norm.`,
    };
  }
  const { days, meanBytes, stdDevBytes } = baseline.value;
  const inputs = { bytesOut: bytes, baselineDays: days, meanBytes, stdDevBytes, volumeFloorBytes: policy.volumeFloorBytes };
  if (days >= policy.minHistoryDays && stdDevBytes > 0) {
    const z = (bytes - meanBytes) / stdDevBytes;
    const fired = z >= policy.zScoreThreshold;
    return {
      ...base,
      verdict: fired ? 'fired' : 'not-fired',
      inputs: { ...inputs, zScore: Math.round(z * 100) / 100 },
      threshold: `z-score >= ${policy.zScoreThreshold} (${days} days of history); ${floor}`,
      explanation: `${formatBytes(bytes)} is ${z.toFixed(1)} standard deviations from the mean of ${formatBytes(meanBytes)}/day.`,
    };
  }
  const ratio = meanBytes > 0 ? bytes / meanBytes : Number.POSITIVE_INFINITY;
  const fired = ratio >= policy.multiplierThreshold;
  const why = days < policy.minHistoryDays ? `only ${days} days of history` : 'zero deviation in the history';
  return {
    ...base,
    verdict: fired ? 'fired' : 'not-fired',
    inputs: { ...inputs, multipleOfMean: Number.isFinite(ratio) ? Math.round(ratio * 100) / 100 : null },
    threshold: `>= ${policy.multiplierThreshold} x the mean (${why}); ${floor}`,
    explanation: Number.isFinite(ratio)
      ? `${formatBytes(bytes)} is ${ratio.toFixed(1)} x the mean of ${formatBytes(meanBytes)}/day.`
      : `${formatBytes(bytes)} against a mean of zero: no prior uploads.`,
  };
}

/** How one figure (this upload, or the day so far) compares with the baseline: the seed's "significantly out of norm". */
function judgeVolume(
  bytes: number,
  stats: { days: number; meanBytes: number; stdDevBytes: number },
  policy: DecisionPolicy,
): { fired: boolean; measure: Record<string, number | null>; text: string } {
  if (bytes < policy.volumeFloorBytes) {
    return { fired: false, measure: {}, text: `under the ${formatBytes(policy.volumeFloorBytes)} floor` };
  }
  const { days, meanBytes, stdDevBytes } = stats;
  if (days >= policy.minHistoryDays && stdDevBytes > 0) {
    const z = (bytes - meanBytes) / stdDevBytes;
    return {
      fired: z >= policy.zScoreThreshold,
      measure: { zScore: Math.round(z * 100) / 100 },
      text: `${z.toFixed(1)} standard deviations from the mean of ${formatBytes(meanBytes)}/day`,
    };
  }
  const ratio = meanBytes > 0 ? bytes / meanBytes : Number.POSITIVE_INFINITY;
  return {
    fired: ratio >= policy.multiplierThreshold,
    measure: { multipleOfMean: Number.isFinite(ratio) ? Math.round(ratio * 100) / 100 : null },
    text: Number.isFinite(ratio)
      ? `${ratio.toFixed(1)} x the mean of ${formatBytes(meanBytes)}/day`
      : 'against a mean of zero (no prior uploads)',
  };
}

/**
 * Since rule version /2: this upload and the user's total for the event's day so far, in the user's time zone (the
 * baseline's day boundary), each against the daily baseline; the rule fires on either. The day so far is what the
 * baseline source knows of the day before the event plus the case's own uploads that day (the opening alert and
 * every alert that joined before the decision), so an upload split into pieces under the floor is judged whole.
 */
function dayVolumeRule(
  alert: NormalizedAlert,
  enrichment: Enrichment,
  policy: DecisionPolicy,
  caseUploads: readonly CaseUpload[],
): RuleEvaluation {
  const floor = `volumes under ${formatBytes(policy.volumeFloorBytes)} never count`;
  const base = {
    rule: 'volume-out-of-norm',
    description: "The volume transferred (this upload, or the user's total for the day so far) is significantly out of the user's norm.",
  };
  const bytes = alert.bytesOut;
  const baseline = enrichment.baseline;
  const day = baseline.status === 'ok' ? baseline.value.day : undefined;
  if (baseline.status !== 'ok' || day === undefined) {
    // The day before this case is unknown; the case's own uploads are a lower bound of the day.
    const known = caseUploads.reduce((sum, u) => sum + u.bytesOut, 0);
    const why =
      baseline.status !== 'ok' ? `The user's baseline is ${unknownReason(baseline)}` : 'The baseline source did not report the day so far';
    if (known < policy.volumeFloorBytes) {
      return {
        ...base,
        verdict: 'not-fired',
        inputs: { bytesOut: bytes, caseBytes: known, volumeFloorBytes: policy.volumeFloorBytes },
        threshold: floor,
        explanation: `${why}; this case's ${caseUploads.length} upload(s), ${formatBytes(known)}, are under the ${formatBytes(policy.volumeFloorBytes)} floor.`,
      };
    }
    return {
      ...base,
      verdict: 'unknown',
      inputs: { bytesOut: bytes, caseBytes: known, volumeFloorBytes: policy.volumeFloorBytes },
      threshold: floor,
      explanation: `${why}; ${formatBytes(known)} in this case treated as out of norm.`,
    };
  }
  const start = Date.parse(day.start);
  const end = Date.parse(day.end);
  const sameDay = caseUploads.filter((u) => {
    const t = Date.parse(u.eventTime);
    return t >= start && t < end;
  });
  const caseBytes = sameDay.reduce((sum, u) => sum + u.bytesOut, 0);
  const dayBytes = day.priorBytes + caseBytes;
  const stats = baseline.value;
  const upload = judgeVolume(bytes, stats, policy);
  const total = judgeVolume(dayBytes, stats, policy);
  const firedOn = upload.fired && total.fired ? 'upload and day' : upload.fired ? 'upload' : total.fired ? 'day' : null;
  const withHistory = stats.days >= policy.minHistoryDays && stats.stdDevBytes > 0;
  const rule = withHistory
    ? `z-score >= ${policy.zScoreThreshold} (${stats.days} days of history)`
    : `>= ${policy.multiplierThreshold} x the mean (${stats.days < policy.minHistoryDays ? `only ${stats.days} days of history` : 'zero deviation in the history'})`;
  const prefix = (m: Record<string, number | null>, p: string) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [`${p}${k[0]?.toUpperCase()}${k.slice(1)}`, v]));
  const firedText =
    firedOn === null
      ? 'Neither is out of norm.'
      : `Fired on ${firedOn === 'upload and day' ? 'this upload and the day so far' : firedOn === 'day' ? 'the day so far' : 'this upload'}.`;
  return {
    ...base,
    verdict: firedOn === null ? 'not-fired' : 'fired',
    inputs: {
      bytesOut: bytes,
      dayBytes,
      dayPriorBytes: day.priorBytes,
      caseDayBytes: caseBytes,
      caseDayUploads: sameDay.length,
      day: day.date,
      timezone: day.timezone,
      baselineDays: stats.days,
      meanBytes: stats.meanBytes,
      stdDevBytes: stats.stdDevBytes,
      volumeFloorBytes: policy.volumeFloorBytes,
      ...upload.measure,
      ...prefix(total.measure, 'day'),
      firedOn,
    },
    threshold: `${rule}, for this upload and for the day so far; ${floor}`,
    explanation:
      `This upload: ${formatBytes(bytes)}, ${upload.text}. ` +
      `The day so far (${day.date}, ${day.timezone}): ${formatBytes(dayBytes)} ` +
      `(${formatBytes(day.priorBytes)} before this case + ${formatBytes(caseBytes)} in ${sameDay.length} upload(s) of this case), ${total.text}. ` +
      firedText,
  };
}

function offHoursRule(enrichment: Enrichment, justification: Justification | null): RuleEvaluation {
  const base = {
    rule: 'off-hours-without-justification',
    description: 'The transfer was initiated outside business hours without a valid business justification.',
    threshold: null,
  };
  const hours = enrichment.businessHours;
  const justified = justification !== null;
  const justificationText = justified
    ? `justified by ${justification.kind} ${justification.id} (${justification.title})`
    : 'no valid justification';
  if (hours.status !== 'ok') {
    return {
      ...base,
      verdict: justified ? 'not-fired' : 'unknown',
      inputs: { withinBusinessHours: null, justification: justification?.id ?? null },
      explanation: `Business hours are ${unknownReason(hours)}; ${justificationText}.`,
    };
  }
  const h = hours.value;
  const fired = !h.withinBusinessHours && !justified;
  return {
    ...base,
    verdict: fired ? 'fired' : 'not-fired',
    inputs: {
      localTime: h.localTime,
      timezone: h.timezone,
      withinBusinessHours: h.withinBusinessHours,
      justification: justification?.id ?? null,
    },
    explanation: h.withinBusinessHours
      ? `${h.localTime} (${h.timezone}) is within business hours.`
      : `${h.localTime} (${h.timezone}) is outside business hours (${h.reason}); ${justificationText}.`,
  };
}

function departingRule(enrichment: Enrichment, policy: DecisionPolicy): RuleEvaluation {
  const base = {
    rule: 'departing-employee',
    description: 'The user is terminated or on notice (configurable; escalates regardless of the other rules).',
    threshold: null,
  };
  if (!policy.escalateDepartingEmployees) {
    return { ...base, verdict: 'not-fired', inputs: { enabled: false }, explanation: 'Disabled by policy.' };
  }
  const hr = enrichment.hr;
  if (hr.status !== 'ok') {
    return { ...base, verdict: 'unknown', inputs: { employmentStatus: null }, explanation: `Employment status is ${unknownReason(hr)}.` };
  }
  const status = hr.value.employmentStatus;
  const fired = status === 'terminated' || status === 'on-notice';
  return {
    ...base,
    verdict: fired ? 'fired' : 'not-fired',
    inputs: { employmentStatus: status },
    explanation: `Employment status: ${status}.`,
  };
}

function domainRule(enrichment: Enrichment): RuleEvaluation {
  const base = {
    rule: 'domain-not-approved',
    description: 'The destination is not an approved cloud-storage domain (Tier 1 follow-up).',
    threshold: null,
  };
  const domain = enrichment.domain;
  if (domain.status !== 'ok') {
    return {
      ...base,
      verdict: 'unknown',
      inputs: { host: null },
      explanation: `The destination is ${unknownReason(domain)}; treated as not approved.`,
    };
  }
  const d = domain.value;
  return {
    ...base,
    verdict: d.approved ? 'not-fired' : 'fired',
    inputs: {
      host: d.host,
      approved: d.approved,
      matchedApprovedDomain: d.matchedApprovedDomain,
      cloudStorageService: d.cloudStorageService,
    },
    explanation: d.approved
      ? `${d.host} is approved (matches ${d.matchedApprovedDomain}).`
      : `${d.host} is not approved${d.cloudStorageService ? ` (a ${d.cloudStorageService} domain)` : ''}${d.isIpLiteral ? ' (an IP address never matches a domain)' : ''}.`,
  };
}

function hrAuthorizationRule(enrichment: Enrichment): RuleEvaluation {
  const base = {
    rule: 'user-not-authorized',
    description: 'HR does not authorize the user to use cloud storage (Tier 1 follow-up).',
    threshold: null,
  };
  const hr = enrichment.hr;
  if (hr.status !== 'ok') {
    return {
      ...base,
      verdict: 'unknown',
      inputs: { cloudStorageAuthorized: null },
      explanation: `HR authorization is ${unknownReason(hr)}; treated as not authorized.`,
    };
  }
  const h = hr.value;
  const authorized = h.cloudStorageAuthorized && h.employmentStatus === 'active';
  return {
    ...base,
    verdict: authorized ? 'not-fired' : 'fired',
    inputs: {
      user: h.user,
      cloudStorageAuthorized: h.cloudStorageAuthorized,
      employmentStatus: h.employmentStatus,
      department: h.department,
    },
    explanation: authorized
      ? `${h.user} (${h.title}, ${h.department}) is authorized to use cloud storage.`
      : `${h.user} is ${h.cloudStorageAuthorized ? `authorized but ${h.employmentStatus}` : 'not authorized to use cloud storage'}.`,
  };
}

const counts = (r: RuleEvaluation): boolean => r.verdict !== 'not-fired';

/**
 * `caseUploads`: the case's uploads (the opening alert's and those that joined before the decision); with them, the
 * volume rule of version /2 counts the day so far. Without them (runs started before /2) the single-upload rule of /1.
 */
export function decide(
  alert: NormalizedAlert,
  enrichment: Enrichment,
  policy: DecisionPolicy,
  caseUploads?: readonly CaseUpload[],
): DecisionRecord {
  const { justification, considered } = findJustification(alert, enrichment);
  const escalationRules = [
    deviceRule(enrichment),
    caseUploads ? dayVolumeRule(alert, enrichment, policy, caseUploads) : volumeRule(alert, enrichment, policy),
    offHoursRule(enrichment, justification),
    departingRule(enrichment, policy),
  ];
  const reviewRules = [domainRule(enrichment), hrAuthorizationRule(enrichment)];

  const reason = (r: RuleEvaluation) => `${r.rule}${r.verdict === 'unknown' ? ' (unknown, fail closed)' : ''}: ${r.explanation}`;
  let outcome: DecisionOutcome;
  let reasons: string[];
  let triggeredBy: string[] = [];
  if (escalationRules.some(counts)) {
    outcome = 'escalate';
    triggeredBy = escalationRules.filter(counts).map((r) => r.rule);
    reasons = escalationRules.filter(counts).map(reason);
  } else if (reviewRules.some(counts) && justification === null) {
    outcome = 'review';
    triggeredBy = reviewRules.filter(counts).map((r) => r.rule);
    reasons = reviewRules.filter(counts).map(reason);
  } else {
    outcome = 'benign';
    reasons = [
      justification && reviewRules.some(counts)
        ? `No escalation rule fired; ${justification.kind} ${justification.id} (${justification.title}) justifies the transfer.`
        : 'No escalation rule fired; the destination is approved and the user is authorized.',
    ];
  }

  const [device, volume] = escalationRules;
  const domain = reviewRules[0];
  const hr = reviewRules[1];
  return {
    outcome,
    ruleVersion: caseUploads ? RULE_VERSION : RULE_VERSION_SINGLE_UPLOAD,
    triggeredBy,
    reasons,
    rules: [...escalationRules, ...reviewRules],
    justification,
    questionsForAnalysis: {
      legitimateBusinessNeed: justification
        ? `Yes: ${justification.kind} ${justification.id} (${justification.title}) covers this user and destination.`
        : `No approved exception, pilot or change covers it. ${domain?.explanation ?? ''} ${hr?.explanation ?? ''}`.trim(),
      deviceAuthorized: device?.explanation ?? '',
      volumeAtypical: volume?.explanation ?? '',
      recentPolicyChanges:
        enrichment.policyChanges.status === 'ok'
          ? `${considered} recent cloud-storage change(s) reviewed; ${justification ? `${justification.id} applies` : 'none applies to this transfer'}.`
          : `Could not be reviewed: ${enrichment.policyChanges.reason}.`,
    },
  };
}
