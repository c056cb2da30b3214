/** The final case report, built from the run state: pure, so it is part of the deterministic workflow. */
import type { ContainmentActionResult, Finding, PlaybookReport, RunState } from '../src/contracts/playbook';
import { formatBytes } from './decide';

/** The seed's "T2 Analyst Actions" and "Containment and Further Analysis" that no automation here performs. */
const T2_ACTIONS = [
  'Analyse the transferred data for sensitive information.',
  'Validate the authenticity of the endpoint that initiated the transfer (check for signs of compromise).',
  'Confirm with IT whether an intentional upgrade or pilot involved cloud-storage usage.',
  'Perform a comprehensive forensic analysis of the involved endpoints.',
];

function findingLine(name: string, finding: Finding<unknown> | undefined, describe: (value: never) => string): string {
  if (finding === undefined) return `- **${name}**: not evaluated`;
  if (finding.status === 'unknown') return `- **${name}**: unknown (${finding.reason}) [${finding.source}]`;
  return `- **${name}**: ${describe(finding.value as never)} [${finding.source}]`;
}

/** Who made the change a containment or release result reports (absent in results recorded before it existed). */
function changedBy(r: ContainmentActionResult): string {
  switch (r.changedBy) {
    case 'this-run':
      return ' (changed by this run)';
    case 'someone-else':
      return ' (not changed by this run: it was so before this run asked, or someone else did it)';
    case 'nobody':
      return ' (nothing changed)';
    default:
      return '';
  }
}

export function buildReport(state: RunState): PlaybookReport {
  const { alert, decision, approval, enrichment } = state;
  const outcome = state.outcome ?? 'in progress';
  const summary =
    `${alert.user} uploaded ${formatBytes(alert.bytesOut)} to ${alert.destDomain} from ${alert.host} at ${alert.eventTime}: ` +
    `${decision?.outcome ?? 'undecided'}, ${outcome}` +
    (decision && decision.triggeredBy.length ? ` (${decision.triggeredBy.join(', ')})` : '');

  const remainingT2Actions = decision?.outcome === 'escalate' ? T2_ACTIONS : [];
  const simulated = state.containment.some((c) => c.status === 'simulated');
  const lines = [
    `# T1567.002 case ${state.workflowId}`,
    '',
    summary,
    '',
    '## Alert',
    `- source: ${alert.source}, alert ID ${alert.alertId}, rule "${alert.ruleName}", severity ${alert.severity}`,
    // The canonical identity decided the case; the SIEM's own form is kept beside it as evidence.
    `- user ${alert.user}${alert.userAsSent !== undefined ? ` (sent as \`${alert.userAsSent}\`)` : ''}, host ${alert.host}, source IP ${alert.srcIp}`,
    `- destination ${alert.destDomain}${alert.destUrl ? ` (${alert.destUrl})` : ''}, ${formatBytes(alert.bytesOut)} (${alert.bytesOut} bytes) at ${alert.eventTime}`,
    '',
    ...joinedAlertLines(state),
    '## Enrichment',
    findingLine(
      'Destination domain',
      enrichment.domain,
      (v: { host: string; approved: boolean; cloudStorageService: string | null }) =>
        `${v.host}: ${v.approved ? 'approved' : 'not approved'}${v.cloudStorageService ? `, ${v.cloudStorageService}` : ''}`,
    ),
    findingLine(
      'HR',
      enrichment.hr,
      (v: { user: string; employmentStatus: string; department: string; cloudStorageAuthorized: boolean }) =>
        `${v.user}, ${v.department}, ${v.employmentStatus}, cloud storage ${v.cloudStorageAuthorized ? 'authorized' : 'not authorized'}`,
    ),
    findingLine(
      'Policy changes',
      enrichment.policyChanges,
      (v: { records: { id: string }[]; windowDays: number }) =>
        `${v.records.length} in the last ${v.windowDays} days${v.records.length ? `: ${v.records.map((r) => r.id).join(', ')}` : ''}`,
    ),
    findingLine(
      'Device',
      enrichment.device,
      (v: { host: string; managed: boolean; cloudStorageAllowed: boolean }) =>
        `${v.host}, ${v.managed ? 'managed' : 'unmanaged'}, cloud storage ${v.cloudStorageAllowed ? 'allowed' : 'not allowed'}`,
    ),
    findingLine(
      'Baseline',
      enrichment.baseline,
      (v: { days: number; meanBytes: number; stdDevBytes: number }) =>
        `mean ${formatBytes(v.meanBytes)}/day, deviation ${formatBytes(v.stdDevBytes)}, over ${v.days} days`,
    ),
    findingLine(
      'Business hours',
      enrichment.businessHours,
      (v: { localTime: string; timezone: string; withinBusinessHours: boolean; reason: string }) =>
        `${v.localTime} ${v.timezone}: ${v.withinBusinessHours ? 'within' : 'outside'} business hours (${v.reason})`,
    ),
    '',
    '## Decision',
    decision ? `**${decision.outcome}** (rules ${decision.ruleVersion})` : 'none',
    ...(decision ? decision.reasons.map((r) => `- ${r}`) : []),
    '',
    '### Questions for analysis',
    ...(decision
      ? [
          `- Legitimate business need? ${decision.questionsForAnalysis.legitimateBusinessNeed}`,
          `- Device authorized? ${decision.questionsForAnalysis.deviceAuthorized}`,
          `- Volume atypical? ${decision.questionsForAnalysis.volumeAtypical}`,
          `- Recent policy changes? ${decision.questionsForAnalysis.recentPolicyChanges}`,
        ]
      : []),
    '',
    '## Approval',
    approval.status === 'not-required'
      ? 'Not required.'
      : `${approval.status}${approval.decidedBy ? ` by ${approval.decidedBy} via ${approval.via} at ${approval.decidedAt}` : ''}` +
        `${approval.comment ? ` ("${approval.comment}")` : ''}; requested ${approval.requestedAt}, expiring ${approval.expiresAt}.`,
    ...(approval.digest ? [`- request ${approval.requestId}, digest ${approval.digest}`] : []),
    ...approval.decisions.map(
      (d) =>
        `- ${d.decision}${d.actions ? ` (${d.actions.join(', ')})` : ''} by ${d.approverName} (${d.approver}) via ${d.via} at ${d.at}` +
        (d.slack ? `, Slack team ${d.slack.teamId} channel ${d.slack.channelId} message ${d.slack.messageTs}` : '') +
        (d.digest ? `, saw ${d.digest}` : ''),
    ),
    '',
    '## Containment',
    ...(state.containment.length
      ? state.containment.map((c) => `- ${c.action} on ${c.target} via ${c.provider}: **${c.status}**${changedBy(c)}: ${c.detail}`)
      : ['None performed.']),
    ...(simulated ? ['', '_Simulated: dry-run containment recorded what it would do; no vendor was called._'] : []),
    ...(state.escalations.length
      ? [
          '',
          '### Refused by a guard rail (escalated to Tier 2)',
          ...state.escalations.map((e) => `- ${e.action} on ${e.target}: ${e.reason}`),
        ]
      : []),
    ...(state.release.windowEndsAt
      ? [
          '',
          '## Release',
          `${state.release.status}${state.release.requestedBy ? ` (requested by ${state.release.requestedBy} via ${state.release.via} at ${state.release.requestedAt})` : ''}; release possible until ${state.release.windowEndsAt}.`,
          ...state.release.results.map(
            (r) => `- ${r.action} on ${r.target} via ${r.provider}: **${r.status}**${changedBy(r)}: ${r.detail}`,
          ),
        ]
      : []),
    ...(state.lease.status !== 'none'
      ? [
          '',
          '## Containment lease',
          `${state.lease.status}; expires ${state.lease.expiresAt}` +
            (state.lease.confirmedBy ? `; confirmed by ${state.lease.confirmedBy} at ${state.lease.confirmedAt}` : '') +
            (state.lease.escalatedAt ? `; re-escalated to Tier 2 at ${state.lease.escalatedAt} via ${state.lease.escalatedVia}` : '') +
            '.',
        ]
      : []),
    '',
    '## Remaining Tier 2 actions',
    ...(remainingT2Actions.length ? remainingT2Actions.map((a) => `- [ ] ${a}`) : ['None.']),
    '',
  ];
  return { summary, markdown: lines.join('\n'), remainingT2Actions };
}

/** Alerts that joined the case after it opened: evidence for the analyst (they did not re-run the decision). */
function joinedAlertLines(state: RunState): string[] {
  const joined = (state.alerts ?? []).filter((a) => a.role === 'joined');
  if (joined.length === 0) return [];
  const total = (state.alerts ?? []).reduce((sum, a) => sum + a.bytesOut, 0);
  return [
    `## Alerts that joined this case (${joined.length}; ${formatBytes(total)} across all ${joined.length + 1})`,
    ...joined.map(
      (a) =>
        `- ${a.source} ${a.alertId}: ${formatBytes(a.bytesOut)} to ${a.destDomain} from ${a.host} at ${a.eventTime} ` +
        `(recorded while ${a.stageOnArrival})`,
    ),
    '',
  ];
}
