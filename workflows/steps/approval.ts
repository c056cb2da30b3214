/**
 * Step 3: approval. A request bound to a digest of exactly what it asks for, sent to the approvers; then a durable
 * wait for an authorised human decision (a Workflow Update whose validator rejects what may not be accepted), with
 * reminders, escalation after the approval window, and expiry at the final deadline (fail closed). Durable timers
 * only: `condition(..., timeout)`.
 */
import {
  ActivityFailure,
  condition,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { patchedInSet } from '../patches';
import {
  CONTAINMENT_ACTIONS,
  type ApprovalDecisionInput,
  type ApprovalRecord,
  type ApprovalState,
  type ContainmentActionName,
  type DecisionRecord,
  type PlaybookInput,
  type RunState,
} from '../../src/contracts/playbook';
import type { NormalizedAlert } from '../../src/contracts/alert';
import type { ApprovalProgress, ApprovalRequest } from '../../src/contracts/ports';
import { SA } from '../../src/contracts/search-attributes';
import { canonicalName } from '../../src/identity/canonical';
import { checkApprover, cliClaimant, type ApproverCase, type Claimant } from '../approvers';
import { currentDetails } from '../case-summary';
import { caseVolumeOf } from '../case-volume';
import { formatBytes } from '../decide';
import { decideApprovalUpdate } from '../messages';
import { slackClaimant } from '../slack-clicks';
import { failureReason, progressActivities, type Activities } from './activities';
import { audit } from './audit';
import { containmentPolicyOf } from './containment';

export const NO_APPROVAL: ApprovalState = {
  status: 'not-required',
  requestId: null,
  requestedAt: null,
  expiresAt: null,
  escalateAt: null,
  escalatedAt: null,
  remindersSent: 0,
  digest: null,
  proposedActions: null,
  notifiedVia: null,
  notifyError: null,
  slack: null,
  awaitingSecondApproval: false,
  decidedBy: null,
  decidedAt: null,
  via: null,
  comment: null,
  approvedActions: null,
  decisions: [],
};

const ISOLATE: ContainmentActionName = 'isolate-endpoint';

/** Whoever decides on this run, by any channel: an approval decision, a release, a confirmation. */
export type Decider = Pick<ApprovalDecisionInput, 'approver' | 'via' | 'digest' | 'slack'>;

/** The person deciding, as their channel identifies them; throws when a Slack click cannot refer to this request. */
function claimantOf(input: PlaybookInput, state: RunState, decision: Decider): Claimant {
  if (decision.via === 'cli') return cliClaimant(input.policy.approval.approvers, decision.approver, input.policy.identity);
  if (decision.via !== 'slack') throw new Error(`Unknown channel "${String(decision.via)}".`);
  return slackClaimant(state.approval, decision);
}

/** What the identity rules compare a claimant with on this run; `approvedBy` only for the pending approval. */
function approverCase(input: PlaybookInput, state: RunState, approvedBy: readonly string[]): ApproverCase {
  const hr = state.enrichment.hr;
  return {
    subject: input.alert.user,
    manager: hr?.status === 'ok' ? hr.value.manager : null,
    escalated: state.approval.escalatedAt !== null,
    approvedBy,
    ...(input.policy.identity ? { org: input.policy.identity } : {}),
  };
}

/** The patch that makes every decision need two approvers when the subject's manager is unknown (older runs: one). */
export const UNKNOWN_MANAGER_PATCH = 'unknown-manager-needs-two-approvers';

/**
 * Fail closed on identity. The manager rule can only refuse a manager HR named: when the subject's HR record is
 * missing, names no manager, or names one that cannot be read, nobody can be shown not to be the subject's manager.
 * Then no one decides alone: every decision (approve, deny, false positive) stands only once two different approvers,
 * neither the subject, have made it. Returns why that applies, or null when HR named the manager.
 */
export function unknownRelation(input: PlaybookInput, state: RunState): string | null {
  const hr = state.enrichment.hr;
  const subject = input.alert.user;
  if (!hr) return `HR has not been consulted about ${subject}`;
  if (hr.status !== 'ok') return `HR has no record of ${subject} (${hr.reason})`;
  if (hr.value.manager === null) return `HR names no manager for ${subject}`;
  if (canonicalName(hr.value.manager, input.policy.identity) === null) return `HR's manager name for ${subject} cannot be read`;
  return null;
}

/** The sentence approvers are shown (Slack message, CLI answer) when the manager is unknown. */
export function twoApproversRule(reason: string): string {
  return `${reason}, so nobody can be shown not to be the subject's manager: every decision (approve, deny, false positive) needs two different approvers`;
}

/**
 * The identity rules for someone who decides on this run: the approval, or later a release or a confirmation of the
 * containment (where the two-person record of the approval does not apply). Throws the refusal; returns the
 * directory user name.
 */
export function checkDecider(input: PlaybookInput, state: RunState, decision: Decider, approvedBy: readonly string[] = []): string {
  const verdict = checkApprover(claimantOf(input, state, decision), approverCase(input, state, approvedBy));
  if (!verdict.allowed) throw new Error(verdict.reason);
  return verdict.name;
}

/** Who an accepted decision is from, as a directory user name (the validator has already applied every rule). */
function approverName(input: PlaybookInput, state: RunState, decision: ApprovalDecisionInput): string {
  const verdict = checkApprover(claimantOf(input, state, decision), approverCase(input, state, []));
  if (verdict.allowed) return verdict.name;
  // The handler runs after the validator accepted (on replay, without it): it needs only the name, and fails only
  // where no name can be had, as it always did.
  if (verdict.name === null) throw new Error(verdict.reason);
  return verdict.name;
}

/** Throws (rejecting the Update without writing history) unless this decision may be accepted now. */
export function validateApprovalDecision(input: PlaybookInput, state: RunState, decision: ApprovalDecisionInput): void {
  const approval = state.approval;
  if (approval.status !== 'pending') {
    throw new Error(`No approval is pending on this run (approval is ${approval.status}).`);
  }
  if (decision.requestId !== approval.requestId) {
    throw new Error('This approval request is not the current one; it authorises nothing.');
  }
  const superseded = decision.digest !== undefined ? approval.superseded?.find((s) => s.digest === decision.digest) : undefined;
  if (superseded) {
    throw new Error(
      `This button shows an earlier version of the request, re-bound at ${superseded.at} because ${superseded.reason}; ` +
        'it authorises nothing. Decide on the updated message.',
    );
  }
  if (decision.digest !== undefined && decision.digest !== approval.digest) {
    throw new Error('This button shows evidence or actions that no longer match the request (digest mismatch); it authorises nothing.');
  }
  if (approval.expiresAt !== null && Date.now() >= Date.parse(approval.expiresAt)) {
    throw new Error('This approval request has expired; it authorises nothing.');
  }
  if (decision.decision !== 'approve' && decision.decision !== 'deny' && decision.decision !== 'false-positive') {
    throw new Error(`Unknown decision "${String(decision.decision)}".`);
  }
  if (decision.actions !== undefined) {
    if (decision.decision !== 'approve') throw new Error('Only an approval names containment actions.');
    if (decision.actions.length === 0) throw new Error('An approval must name at least one containment action.');
    const unknown = decision.actions.filter((a) => !(CONTAINMENT_ACTIONS as readonly string[]).includes(a));
    if (unknown.length) throw new Error(`Unknown containment action(s): ${unknown.join(', ')}.`);
  }
  const claimant = claimantOf(input, state, decision);
  const verdict = checkApprover(
    claimant,
    approverCase(
      input,
      state,
      approval.decisions.map((d) => d.approverName),
    ),
  );
  if (verdict.allowed) return;
  const unknown = unknownRelation(input, state);
  if (verdict.rule === 'two-person' && unknown !== null) {
    const who = claimant.showName && verdict.name !== null ? `${claimant.handle} (${verdict.name})` : claimant.handle;
    throw new Error(`${who} has already decided on this request; ${twoApproversRule(unknown)}, so the second must come from someone else.`);
  }
  throw new Error(verdict.reason);
}

/** Under the two-person rule, the distinct approvers who approved isolation. */
function isolationApprovers(decisions: ApprovalRecord[]): number {
  return new Set(decisions.filter((d) => d.decision === 'approve' && d.actions?.includes(ISOLATE)).map((d) => d.approverName)).size;
}

/** Registered when the run starts, so a decision that arrives at any time meets the validator. */
export function registerApprovalHandlers(input: PlaybookInput, state: RunState): void {
  setHandler(
    decideApprovalUpdate,
    (decision: ApprovalDecisionInput) => {
      const approval = state.approval;
      const at = new Date().toISOString();
      const actions = decision.decision === 'approve' ? [...(decision.actions ?? CONTAINMENT_ACTIONS)] : null;
      const record: ApprovalRecord = {
        requestId: decision.requestId,
        decision: decision.decision,
        actions,
        approver: decision.approver,
        approverName: approverName(input, state, decision),
        via: decision.via,
        at,
        comment: decision.comment ?? null,
        digest: decision.digest ?? null,
        slack: decision.slack ?? null,
      };
      approval.decisions.push(record);
      const decided = (status: ApprovalState['status'], approved: ContainmentActionName[] | null) => {
        approval.status = status;
        approval.awaitingSecondApproval = false;
        if (approval.awaitingSecondBecause !== undefined) approval.awaitingSecondBecause = null;
        approval.decidedBy = decision.approver;
        approval.decidedAt = at;
        approval.via = decision.via;
        approval.comment = decision.comment ?? null;
        approval.approvedActions = approved;
      };
      const unknown = unknownRelation(input, state);
      if (unknown !== null && patchedInSet(UNKNOWN_MANAGER_PATCH)) {
        // Nobody decides alone: a decision stands once two different approvers made it; until then it waits.
        const by = (kind: ApprovalDecisionInput['decision'], action?: ContainmentActionName) =>
          new Set(
            approval.decisions
              .filter((d) => d.decision === kind && (action === undefined || (d.actions ?? []).includes(action)))
              .map((d) => d.approverName),
          ).size;
        const agreed = decision.decision === 'approve' ? CONTAINMENT_ACTIONS.filter((a) => by('approve', a) >= 2) : [];
        if (decision.decision !== 'approve' && by(decision.decision) >= 2) {
          decided(decision.decision === 'deny' ? 'denied' : 'false-positive', null);
        } else if (agreed.length > 0) {
          decided('approved', agreed);
        } else {
          approval.awaitingSecondApproval = true;
          approval.awaitingSecondBecause = twoApproversRule(unknown);
        }
        return approval;
      }
      if (decision.decision === 'deny') decided('denied', null);
      else if (decision.decision === 'false-positive') decided('false-positive', null);
      else {
        const required = input.policy.approval.twoPersonIsolation ? 2 : 1;
        const isolationOk = isolationApprovers(approval.decisions) >= required;
        if (actions?.includes(ISOLATE) && !isolationOk) {
          // The first of two approvals for isolation: recorded, and the request stays open for a second approver.
          approval.awaitingSecondApproval = true;
          approval.awaitingSecondBecause = 'endpoint isolation needs approvals from two different approvers';
        } else {
          const union = new Set(approval.decisions.flatMap((d) => (d.decision === 'approve' ? (d.actions ?? []) : [])));
          if (!isolationOk) union.delete(ISOLATE);
          decided(
            'approved',
            CONTAINMENT_ACTIONS.filter((a) => union.has(a)),
          );
        }
      }
      return approval;
    },
    { validator: (decision: ApprovalDecisionInput) => validateApprovalDecision(input, state, decision) },
  );
}

/** The request as it was sent, for reminders, escalation and in-place edits. */
function approvalRequest(input: PlaybookInput, state: RunState, decision: DecisionRecord): ApprovalRequest {
  const a = state.approval;
  return {
    workflowId: workflowInfo().workflowId,
    requestId: a.requestId ?? '',
    alert: input.alert,
    enrichment: state.enrichment,
    decision,
    proposedActions: a.proposedActions ?? [],
    digest: a.digest ?? '',
    requestedAt: a.requestedAt ?? '',
    expiresAt: a.expiresAt ?? '',
    escalateAt: a.escalateAt,
    approvers: input.policy.approval.approvers,
    twoPersonIsolation: input.policy.approval.twoPersonIsolation,
    twoApproversBecause: unknownOrNull(input, state),
    ...(state.volume ? { volume: state.volume } : {}),
  };
}

/**
 * An alert joined the case while its request waits (re-binding runs only): the digest the approvers were shown no
 * longer matches what they would authorise, so a click carrying it is refused from this moment, before the request
 * is re-bound to the new total (`requestAndAwaitApproval`). Called from the evidence signal handler.
 */
export function supersedeForJoin(state: RunState, alert: NormalizedAlert): void {
  supersede(state, `alert ${alert.alertId} from ${alert.source} joined the case with ${formatBytes(alert.bytesOut)} more`);
}

function supersede(state: RunState, reason: string): void {
  const approval = state.approval;
  if (approval.status !== 'pending' || approval.digest === null) return;
  const superseded = (approval.superseded ??= []);
  if (superseded.some((s) => s.digest === approval.digest)) return;
  superseded.push({ digest: approval.digest, reason, at: new Date().toISOString() });
}

/** Will the run hold this containment for release (a window, and something this run changed or simulated)? */
function releasable(input: PlaybookInput, state: RunState): boolean {
  const containment = (input.policy as Partial<PlaybookInput['policy']>).containment;
  return (
    (containment?.releaseWindowMs ?? 0) > 0 &&
    state.containment.some((r) => (r.status === 'done' && !r.alreadyInState) || r.status === 'simulated')
  );
}

function unknownOrNull(input: PlaybookInput, state: RunState): string | null {
  const reason = unknownRelation(input, state);
  return reason === null ? null : twoApproversRule(reason);
}

/**
 * Tells the approvers how the run moved on (edits the message in place, posts in its thread). Best effort: a
 * notifier outage is logged and never stops or delays containment beyond the progress activity's short budget.
 */
export async function publishApprovalProgress(input: PlaybookInput, state: RunState, stage: ApprovalProgress['stage']): Promise<void> {
  if (state.decision === null || state.approval.requestId === null) return;
  try {
    await progressActivities.publishApprovalProgress.executeWithOptions({ summary: `Tell the approvers: ${stage}` }, [
      {
        request: approvalRequest(input, state, state.decision),
        message: state.approval.slack?.message ?? null,
        escalationMessage: state.approval.slack?.escalationMessage ?? null,
        stage,
        approval: state.approval,
        containment: state.containment,
        releasable: stage === 'contained' && releasable(input, state),
      },
    ]);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('Could not tell the approvers how the run moved on', { stage, reason: failureReason(err) });
  }
}

/** The approval's outcome in the audit trail: who decided what, through what, having seen which digest. */
async function recordApproval(approval: ApprovalState): Promise<void> {
  await audit(
    'approval',
    approval.decidedBy ?? 'playbook',
    {
      status: approval.status,
      requestId: approval.requestId,
      requestedAt: approval.requestedAt,
      decidedAt: approval.decidedAt ?? (approval.status === 'expired' ? approval.expiresAt : null),
      via: approval.via,
      comment: approval.comment,
      approvedActions: approval.approvedActions,
      digest: approval.digest,
      decisions: approval.decisions,
    },
    `approval ${approval.status}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}`,
  );
}

/**
 * Requests approval, waits for a decision or the deadline, and records the outcome (in `state.approval` and the
 * audit trail). The approvers are told the outcome without waiting: `told` settles when they have been (or could
 * not be); await it before telling them anything newer, so their messages stay in order.
 */
export async function requestAndAwaitApproval(
  input: PlaybookInput,
  state: RunState,
  decision: DecisionRecord,
  options: { rebindOnJoin?: boolean } = {},
): Promise<{ told: Promise<void> }> {
  const { alert, policy } = input;
  const requestedAt = Date.now();
  const deadline = requestedAt + policy.approval.deadlineMs;
  const escalateAt = policy.approval.deadlineMs > policy.approval.timeoutMs ? requestedAt + policy.approval.timeoutMs : null;
  state.approval = {
    ...NO_APPROVAL,
    decisions: [],
    status: 'pending',
    requestId: uuid4(),
    requestedAt: new Date(requestedAt).toISOString(),
    expiresAt: new Date(deadline).toISOString(),
    escalateAt: escalateAt === null ? null : new Date(escalateAt).toISOString(),
  };
  const approval = state.approval;
  upsertSearchAttributes([{ key: SA.approvalState, value: 'pending' }]);

  // Posting the request may retry (Slack down, rate limited) until the deadline, and no longer.
  const requestActs = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: Math.max(1000, deadline - Date.now()),
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m' },
  });
  // The digest first, on its own: it binds the request even when no message can be sent.
  const containment = containmentPolicyOf(input);
  approval.proposedActions = [
    ...containment.accessProviders.map((provider) => ({ action: 'revoke-cloud-storage-access' as const, target: alert.user, provider })),
    { action: 'isolate-endpoint', target: alert.host, provider: containment.isolationProvider },
  ];
  const rebind = options.rebindOnJoin === true;
  // The alerts the request was last bound to; one more (a join) re-binds it to the new total.
  let boundAlerts = state.alerts.length;
  const bind = async (summary: string) => {
    boundAlerts = state.alerts.length;
    if (rebind) state.volume = caseVolumeOf(state);
    const prepared = await requestActs.prepareApproval.executeWithOptions({ summary }, [
      {
        workflowId: workflowInfo().workflowId,
        requestId: approval.requestId ?? '',
        expiresAt: approval.expiresAt ?? '',
        proposedActions: approval.proposedActions ?? [],
        alert,
        enrichment: state.enrichment,
        decision,
        ...(rebind && state.volume ? { volume: state.volume } : {}),
      },
    ]);
    approval.digest = prepared.digest;
  };
  await bind('Bind the request to a digest');
  try {
    const approvers = await requestActs.resolveApprovers.executeWithOptions({ summary: 'Snapshot who may decide' }, []);
    if (approvers) approval.slack = { message: null, escalationMessage: null, approvers };
    const notice = await requestActs.requestApproval.executeWithOptions(
      { summary: `Ask an approver to contain ${alert.user} / ${alert.host}` },
      [approvalRequest(input, state, decision)],
    );
    approval.notifiedVia = notice.via;
    if (approval.slack) approval.slack.message = notice.message;
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    // Nobody may have been told; the request still stands for the CLI, and still expires (fail closed).
    approval.notifyError = failureReason(err);
    log.error('The approval request could not be delivered', { reason: approval.notifyError });
  }

  let nextReminder = policy.approval.reminderIntervalMs ? requestedAt + policy.approval.reminderIntervalMs : null;
  let seen = approval.decisions.length;
  while (approval.status === 'pending') {
    const now = Date.now();
    if (now >= deadline) break;
    const wakeAt = Math.min(
      deadline,
      escalateAt !== null && approval.escalatedAt === null ? escalateAt : Infinity,
      nextReminder ?? Infinity,
    );
    await condition(
      () => approval.status !== 'pending' || approval.decisions.length !== seen || (rebind && state.alerts.length !== boundAlerts),
      Math.max(1, wakeAt - now),
    );
    if (approval.status !== 'pending') break;
    if (rebind && state.alerts.length !== boundAlerts) {
      // Re-bound: what the approvers authorise now includes the joined alerts' volume; the old buttons are refused.
      const joined = state.alerts.length - boundAlerts;
      // Already done by the signal handler, unless the alert joined while the digest was being computed.
      supersede(state, `${joined} alert(s) joined the case`);
      if (approval.decisions.length > 0) {
        // A first approval of a two-approver request authorised the earlier total, not this one: it is voided, and
        // the re-bound request needs its approvers again (fail closed).
        approval.voidedDecisions = [...(approval.voidedDecisions ?? []), ...approval.decisions];
        approval.decisions = [];
        approval.awaitingSecondApproval = false;
        approval.awaitingSecondBecause = null;
        seen = 0;
      }
      await bind(`Re-bind the request: ${joined} alert(s) joined`);
      log.info('Approval request re-bound to the case total', { dayBytes: state.volume?.dayBytes ?? null, digest: approval.digest });
      await audit(
        'approval',
        'playbook',
        {
          rebound: true,
          requestId: approval.requestId,
          digest: approval.digest,
          superseded: approval.superseded ?? [],
          volume: state.volume,
        },
        `approval request re-bound (${joined} alert(s) joined)`,
        `approval-rebound-${approval.superseded?.length ?? 0}-${state.alerts.length}`,
      );
      await publishApprovalProgress(input, state, 'rebound');
      setCurrentDetails(currentDetails(state));
      continue;
    }
    if (approval.decisions.length !== seen) {
      seen = approval.decisions.length;
      await publishApprovalProgress(input, state, 'awaiting-second-approval');
      continue;
    }
    const t = Date.now();
    if (t >= deadline) break;
    if (escalateAt !== null && approval.escalatedAt === null && t >= escalateAt) {
      approval.escalatedAt = new Date(t).toISOString();
      log.warn('Approval window passed; escalating');
      try {
        const escalated = await progressActivities.escalateApproval.executeWithOptions({ summary: 'Escalate the approval' }, [
          { request: approvalRequest(input, state, decision), message: approval.slack?.message ?? null },
        ]);
        if (approval.slack) approval.slack.escalationMessage = escalated.message;
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        log.error('Could not escalate the approval', { reason: failureReason(err) });
      }
    }
    if (nextReminder !== null && t >= nextReminder) {
      approval.remindersSent++;
      nextReminder += policy.approval.reminderIntervalMs ?? Infinity;
      try {
        await progressActivities.remindApprovers.executeWithOptions({ summary: `Reminder ${approval.remindersSent}` }, [
          {
            request: approvalRequest(input, state, decision),
            message: approval.slack?.message ?? null,
            remindersSent: approval.remindersSent,
          },
        ]);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        log.warn('Could not send a reminder', { reason: failureReason(err) });
      }
    }
  }
  if (approval.status === 'pending') {
    approval.status = 'expired';
    approval.awaitingSecondApproval = false;
    log.warn('Approval request expired; no containment (fail closed)');
  }
  upsertSearchAttributes([{ key: SA.approvalState, value: approval.status }]);
  // Started, not awaited: telling the approvers never delays containment.
  const told = publishApprovalProgress(input, state, approval.status === 'expired' ? 'expired' : 'decided');
  await recordApproval(approval);
  setCurrentDetails(currentDetails(state));
  return { told };
}
