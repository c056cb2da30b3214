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
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
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
import type { ApprovalProgress, ApprovalRequest } from '../../src/contracts/ports';
import { SA } from '../../src/contracts/search-attributes';
import { decideApprovalUpdate } from '../messages';
import { failureReason, progressActivities, type Activities } from './activities';
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

/** Who the decision is from, as a directory user name; throws if they may not decide at all. */
function approverName(input: PlaybookInput, state: RunState, decision: ApprovalDecisionInput): string {
  if (decision.via === 'cli') {
    const approver = decision.approver.toLowerCase();
    if (!input.policy.approval.approvers.some((a) => a.id.toLowerCase() === approver)) {
      throw new Error(`${decision.approver} is not an authorised approver.`);
    }
    return approver;
  }
  if (decision.via !== 'slack') throw new Error(`Unknown channel "${String(decision.via)}".`);
  const slack = state.approval.slack;
  const ctx = decision.slack;
  if (!slack) throw new Error('This approval request was not sent to Slack; a Slack click cannot decide it.');
  if (!ctx || decision.digest === undefined) throw new Error('A Slack decision must carry its Slack context and digest.');
  if (ctx.userId !== decision.approver) throw new Error('The Slack user does not match the approver.');
  const from = [slack.message, slack.escalationMessage].some((m) => m !== null && m.channel === ctx.channelId && m.ts === ctx.messageTs);
  if (!from) {
    // The message is visible in Slack a moment before the run has recorded its ts.
    const recording =
      (slack.message === null && state.approval.notifyError === null) ||
      (state.approval.escalatedAt !== null && slack.escalationMessage === null);
    if (recording) throw new Error('This request is still being posted; click again in a moment.');
    throw new Error("This button is not on this run's current approval message; it authorises nothing.");
  }
  const entry = slack.approvers.find((a) => a.userId === decision.approver);
  if (!entry) throw new Error(`<@${decision.approver}> is not an authorised approver.`);
  if (entry.via === 'escalation-group' && state.approval.escalatedAt === null) {
    throw new Error(`<@${decision.approver}> may decide only once the request has been escalated.`);
  }
  if (entry.name === null) {
    throw new Error(`<@${decision.approver}> cannot be matched to a directory user, so they may not decide (map them in slack.userMap).`);
  }
  return entry.name.toLowerCase();
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
  const name = approverName(input, state, decision);
  const who = decision.via === 'slack' ? `<@${decision.approver}> (${name})` : decision.approver;
  if (name === input.alert.user.toLowerCase()) {
    throw new Error(`${who} is the subject of this alert and may not decide on it.`);
  }
  const hr = state.enrichment.hr;
  if (hr?.status === 'ok' && hr.value.manager !== null && hr.value.manager.toLowerCase() === name) {
    throw new Error(`${who} is the manager of the alert's subject and may not decide on it.`);
  }
  if (approval.decisions.some((d) => d.approverName === name)) {
    throw new Error(`${who} has already approved; the second approval must come from a different approver.`);
  }
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
        approval.decidedBy = decision.approver;
        approval.decidedAt = at;
        approval.via = decision.via;
        approval.comment = decision.comment ?? null;
        approval.approvedActions = approved;
      };
      if (decision.decision === 'deny') decided('denied', null);
      else if (decision.decision === 'false-positive') decided('false-positive', null);
      else {
        const required = input.policy.approval.twoPersonIsolation ? 2 : 1;
        const isolationOk = isolationApprovers(approval.decisions) >= required;
        if (actions?.includes(ISOLATE) && !isolationOk) {
          // The first of two approvals for isolation: recorded, and the request stays open for a second approver.
          approval.awaitingSecondApproval = true;
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
  };
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
      },
    ]);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('Could not tell the approvers how the run moved on', { stage, reason: failureReason(err) });
  }
}

/** Requests approval and waits for a decision or the deadline; leaves the outcome in `state.approval`. */
export async function requestAndAwaitApproval(input: PlaybookInput, state: RunState, decision: DecisionRecord): Promise<void> {
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
  const prepared = await requestActs.prepareApproval.executeWithOptions({ summary: 'Bind the request to a digest' }, [
    {
      workflowId: workflowInfo().workflowId,
      requestId: approval.requestId ?? '',
      expiresAt: approval.expiresAt ?? '',
      proposedActions: approval.proposedActions,
      alert,
      enrichment: state.enrichment,
      decision,
    },
  ]);
  approval.digest = prepared.digest;
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
    await condition(() => approval.status !== 'pending' || approval.decisions.length !== seen, Math.max(1, wakeAt - now));
    if (approval.status !== 'pending') break;
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
}
