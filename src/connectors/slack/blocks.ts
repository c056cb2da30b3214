/**
 * The approval message in Block Kit, and its later states. Pure functions: no I/O, so tests render them directly.
 *
 * Alert text is untrusted (a SIEM field can say anything): every untrusted value goes through `untrusted()`, which
 * escapes `&`, `<` and `>` (so `<!channel>`, `<@U...>` and `<http://...|...>` cannot be formed), breaks `@` so
 * `@channel`/`@here` never notify, flattens newlines and control characters (no layout breaking), and wraps the value
 * in an inline code span (no bold/italic/strike, no auto-linked URLs). Only our own trusted links are links.
 */
import type { ContainmentActionName, DecisionRecord, Enrichment, Finding } from '../../contracts/playbook';
import type { ApprovalProgress, ApprovalRequest, ContainmentEscalation } from '../../contracts/ports';
import { formatBytes } from '../../format';

/** Block Kit element (kept loose: the Web API validates the rest, and answers `invalid_blocks` if wrong). */
export type Block = Record<string, unknown>;

export const APPROVAL_BLOCK_ID = 'soar_approval';

/** The buttons: action_id -> what a click on it decides. */
export const APPROVAL_ACTIONS = {
  approve_all: { decision: 'approve', actions: ['revoke-cloud-storage-access', 'isolate-endpoint'], label: 'Approve all' },
  approve_revoke: { decision: 'approve', actions: ['revoke-cloud-storage-access'], label: 'Approve revoke-access only' },
  approve_isolate: { decision: 'approve', actions: ['isolate-endpoint'], label: 'Approve isolation only' },
  deny: { decision: 'deny', actions: null, label: 'Deny' },
  false_positive: { decision: 'false-positive', actions: null, label: 'Mark false positive' },
} as const satisfies Record<
  string,
  { decision: 'approve' | 'deny' | 'false-positive'; actions: readonly ContainmentActionName[] | null; label: string }
>;
export type ApprovalActionId = keyof typeof APPROVAL_ACTIONS;

/** The "Release containment" button on the contained message: a release request, decided by the run's validator. */
export const RELEASE_BLOCK_ID = 'soar_release';
export const RELEASE_ACTION_ID = 'release_containment';

/** What a button carries: the run, the request and the digest of what was shown. */
export interface ButtonValue {
  w: string;
  r: string;
  d: string;
}

const MAX_UNTRUSTED = 200;

/** Untrusted text, made inert: see the module comment. */
export function untrusted(value: string | number | boolean | null | undefined, max = MAX_UNTRUSTED): string {
  let text = String(value ?? '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/`/g, 'ˋ')
    .replace(/[\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '');
  if (text.length > max) text = `${text.slice(0, max - 1)}…`;
  text = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/@/g, '@\u200b');
  return text.trim() === '' ? '`(empty)`' : `\`${text}\``;
}

/** Our own prose with values already rendered: only `&`, `<`, `>` escaped (for text we compose ourselves). */
function escapeTrusted(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function runUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, 2900) } });
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function finding<T>(name: string, f: Finding<T> | undefined, describe: (v: T) => string): string {
  if (!f) return `• *${name}*: not evaluated`;
  if (f.status === 'unknown') return `• *${name}*: unknown (${untrusted(f.reason)})`;
  return `• *${name}*: ${describe(f.value)}`;
}

function findings(e: Partial<Enrichment>): string {
  return [
    finding('Destination', e.domain, (v) =>
      [
        untrusted(v.host),
        v.approved ? 'approved domain' : 'not an approved domain',
        v.cloudStorageService ? `service ${untrusted(v.cloudStorageService)}` : 'unknown service',
      ].join(', '),
    ),
    finding(
      'HR',
      e.hr,
      (v) =>
        `${untrusted(v.displayName)}, ${untrusted(v.department)}, ${untrusted(v.employmentStatus)}, manager ${untrusted(v.manager ?? 'none')}, ` +
        `cloud storage ${v.cloudStorageAuthorized ? 'authorised' : 'not authorised'}`,
    ),
    finding(
      'Device',
      e.device,
      (v) => `${v.managed ? 'managed' : 'unmanaged'}, cloud storage ${v.cloudStorageAllowed ? 'allowed' : 'not allowed'}`,
    ),
    finding('Baseline', e.baseline, (v) => `mean ${formatBytes(v.meanBytes)}/day (sd ${formatBytes(v.stdDevBytes)}) over ${v.days} days`),
    finding('Business hours', e.businessHours, (v) => `${v.withinBusinessHours ? 'within' : 'outside'} (${untrusted(v.reason)})`),
    finding(
      'Policy changes',
      e.policyChanges,
      (v) =>
        `${v.records.length} in ${v.windowDays} days${v.records.length ? `: ${v.records.map((r) => untrusted(r.id, 40)).join(', ')}` : ''}`,
    ),
  ].join('\n');
}

function volume(request: ApprovalRequest): string {
  const bytes = formatBytes(request.alert.bytesOut);
  const b = request.enrichment.baseline;
  if (b?.status === 'ok' && b.value.meanBytes > 0) {
    return `${bytes} (${(request.alert.bytesOut / b.value.meanBytes).toFixed(1)}× the daily mean of ${formatBytes(b.value.meanBytes)})`;
  }
  return `${bytes} (no baseline)`;
}

function localTime(request: ApprovalRequest): string {
  const h = request.enrichment.businessHours;
  if (h?.status === 'ok') return `${untrusted(h.value.localTime)} ${untrusted(h.value.timezone)} (${untrusted(h.value.weekday)})`;
  return `${untrusted(request.alert.eventTime)} (user's time zone unknown)`;
}

function destination(request: ApprovalRequest): string {
  const d = request.enrichment.domain;
  // The domain finding's host is the URL parser's A-label form: punycode, so look-alike Unicode cannot hide.
  return d?.status === 'ok' ? untrusted(d.value.host) : untrusted(request.alert.destDomain);
}

function decisionText(decision: DecisionRecord): string {
  return [`*Decision: ${escapeTrusted(decision.outcome)}*`, ...decision.reasons.map((r) => `• ${untrusted(r, 400)}`)].join('\n');
}

function proposed(request: ApprovalRequest): string {
  const lines = request.proposedActions.map(
    (p, i) =>
      `${i + 1}. *${p.action}* on ${p.action === 'isolate-endpoint' ? 'device' : 'account'} ${untrusted(p.target)} via ${untrusted(p.provider)}`,
  );
  if (request.twoPersonIsolation) lines.push('_Endpoint isolation needs approvals from two different approvers._');
  // Said before anyone clicks: with the manager unknown, the first click of any button is not the decision.
  if (request.twoApproversBecause) lines.push(`:warning: _${untrusted(request.twoApproversBecause, 400)}._`);
  return ['*Proposed containment*', ...lines].join('\n');
}

function requestContext(request: ApprovalRequest, link: string): Block {
  return {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: clip(
          `<${link}|Open the run in Temporal> · request ${untrusted(request.requestId)} · digest ${untrusted(request.digest.slice(0, 19))} · ` +
            `expires ${untrusted(request.expiresAt)}`,
          2900,
        ),
      },
    ],
  };
}

export function buttonValue(request: ApprovalRequest): string {
  return JSON.stringify({ w: request.workflowId, r: request.requestId, d: request.digest } satisfies ButtonValue);
}

function buttons(request: ApprovalRequest): Block {
  const value = buttonValue(request);
  const button = (id: ApprovalActionId, style?: 'primary' | 'danger'): Block => ({
    type: 'button',
    action_id: id,
    text: { type: 'plain_text', text: APPROVAL_ACTIONS[id].label },
    value,
    ...(style ? { style } : {}),
  });
  return {
    type: 'actions',
    block_id: APPROVAL_BLOCK_ID,
    elements: [
      button('approve_all', 'primary'),
      button('approve_revoke'),
      button('approve_isolate'),
      button('deny', 'danger'),
      button('false_positive'),
    ],
  };
}

/** The fallback text (notifications, screen readers): no untrusted text beyond inert code spans. */
export function fallbackText(request: ApprovalRequest): string {
  return `Approval needed (T1567.002): ${untrusted(request.alert.user)} uploaded ${formatBytes(request.alert.bytesOut)} to ${destination(request)}`;
}

/** The request as first posted: evidence, decision, proposed actions, link, buttons. */
export function approvalBlocks(request: ApprovalRequest, link: string, status: Block | null = null): Block[] {
  const { alert } = request;
  return [
    { type: 'header', text: { type: 'plain_text', text: 'Approval needed: possible exfiltration to cloud storage (T1567.002)' } },
    {
      type: 'section',
      fields: [
        `*User*\n${untrusted(alert.user)}`,
        `*Host*\n${untrusted(alert.host)} (${untrusted(alert.srcIp)})`,
        `*Destination*\n${destination(request)}`,
        `*Volume*\n${volume(request)}`,
        `*Time (user's zone)*\n${localTime(request)}`,
        `*Alert*\n${untrusted(alert.alertId)} from ${untrusted(alert.source)}, ${untrusted(alert.severity)}: ${untrusted(alert.ruleName, 120)}`,
      ].map((text) => ({ type: 'mrkdwn', text: clip(text, 1900) })),
    },
    section(`*Findings*\n${findings(request.enrichment)}`),
    section(decisionText(request.decision)),
    section(proposed(request)),
    requestContext(request, link),
    status ?? buttons(request),
  ];
}

function who(p: ApprovalProgress): string {
  const last = p.approval.decisions[p.approval.decisions.length - 1];
  if (!last) return 'nobody';
  return last.via === 'slack' && last.slack ? `<@${last.slack.userId}>` : `${untrusted(last.approver)} (CLI)`;
}

/** The one-line state that replaces the buttons once the run has moved on. */
export function statusLine(p: ApprovalProgress): string {
  const a = p.approval;
  switch (p.stage) {
    case 'awaiting-second-approval': {
      const because = a.awaitingSecondBecause;
      if (!because || because.startsWith('endpoint isolation')) {
        return `:hourglass: Approved by ${who(p)}; endpoint isolation waits for a second, different approver.`;
      }
      const last = a.decisions[a.decisions.length - 1];
      const verb = last?.decision === 'deny' ? 'Denied' : last?.decision === 'false-positive' ? 'Marked false positive' : 'Approved';
      return `:hourglass: ${verb} by ${who(p)}; this waits for a second, different approver: ${untrusted(because, 400)}.`;
    }
    case 'expired':
      return `:no_entry: *Expired* at ${untrusted(a.expiresAt)} with no decision. No containment was performed.`;
    case 'contained':
    case 'containment-failed':
      return [
        p.stage === 'contained' ? ':white_check_mark: *Containment finished*' : ':x: *Containment failed*',
        ...p.containment.map((c) => `• ${c.action} on ${untrusted(c.target)} via ${untrusted(c.provider)}: *${c.status}*`),
      ].join('\n');
    default:
      switch (a.status) {
        case 'approved':
          return `:white_check_mark: *Approved* by ${who(p)} at ${untrusted(a.decidedAt)}: ${(a.approvedActions ?? []).join(', ') || 'nothing'}.`;
        case 'denied':
          return `:no_entry_sign: *Denied* by ${who(p)} at ${untrusted(a.decidedAt)}. No containment.`;
        case 'false-positive':
          return `:white_circle: *Marked false positive* by ${who(p)} at ${untrusted(a.decidedAt)}. No containment.`;
        default:
          return `State: ${untrusted(a.status)}`;
      }
  }
}

/**
 * The release button: the same rules as the CLI `release` (an approver, not the subject, not their manager), applied
 * by the run's Update validator when it is clicked; Slack's confirmation dialog first, since it lifts containment.
 */
function releaseButton(request: ApprovalRequest): Block {
  return {
    type: 'actions',
    block_id: RELEASE_BLOCK_ID,
    elements: [
      {
        type: 'button',
        action_id: RELEASE_ACTION_ID,
        text: { type: 'plain_text', text: 'Release containment' },
        style: 'danger',
        value: buttonValue(request),
        confirm: {
          title: { type: 'plain_text', text: 'Release containment?' },
          text: { type: 'mrkdwn', text: 'Undoes what this run changed (lifts the isolation, restores access it removed).' },
          confirm: { type: 'plain_text', text: 'Release' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
    ],
  };
}

/** The message once the run has moved on: the same evidence, the buttons replaced by the state (unless still open). */
export function progressBlocks(p: ApprovalProgress, link: string): Block[] {
  const open = p.stage === 'awaiting-second-approval';
  const status = section(statusLine(p));
  const blocks = approvalBlocks(p.request, link, open ? null : status);
  if (p.stage === 'contained' && p.releasable) return [...blocks, releaseButton(p.request)];
  return open ? [...blocks.slice(0, -1), status, blocks[blocks.length - 1] as Block] : blocks;
}

/**
 * A Tier 2 escalation (a guard rail refused a containment, a containment failed, a lease ran out unconfirmed): who
 * and what, what containment stands, the commands that answer it, and the link to the case. The reason quotes alert
 * fields (a protected account's name), so it is untrusted text like the rest.
 */
export function tier2Blocks(notice: ContainmentEscalation, link: string, mention: string | null): { text: string; blocks: Block[] } {
  const { alert } = notice;
  const heading = `${mention ? `${mention} ` : ''}:rotating_light: *Tier 2 escalation* (T1567.002): ${untrusted(notice.reason, 600)}`;
  const containment = notice.containment.length
    ? notice.containment
        .map((c) => `• ${escapeTrusted(c.action)} ${untrusted(c.target)} via ${untrusted(c.provider)}: *${escapeTrusted(c.status)}*`)
        .join('\n')
    : '• nothing contained';
  const id = untrusted(notice.workflowId);
  return {
    text: `Tier 2 escalation: ${untrusted(alert.user)} on ${untrusted(alert.host)}, ${untrusted(notice.reason, 600)}`,
    blocks: [
      section(heading),
      {
        type: 'section',
        fields: [
          `*User*\n${untrusted(alert.user)}`,
          `*Host*\n${untrusted(alert.host)}`,
          `*Destination*\n${untrusted(alert.destDomain)}`,
          `*Uploaded*\n${formatBytes(alert.bytesOut)}`,
        ].map((text) => ({ type: 'mrkdwn', text })),
      },
      section(`*Containment*\n${containment}`),
      section(
        `*Answer it*: confirm with \`npm run soar -- confirm\` ${id} \`--as <approver-id>\`, or release with ` +
          `\`npm run soar -- release\` ${id} \`--as <approver-id>\`.\n<${link}|Open the case in Temporal>`,
      ),
    ],
  };
}
