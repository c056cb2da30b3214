/**
 * Step 3: approval. A request to the approvers, then a durable wait for an authorised human decision (a Workflow
 * Update whose validator rejects what may not be accepted), bounded by the approval window.
 */
import { condition, log, setHandler, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import {
  CONTAINMENT_ACTIONS,
  type ApprovalDecisionInput,
  type ApprovalState,
  type DecisionRecord,
  type PlaybookInput,
  type RunState,
} from '../../src/contracts/playbook';
import { SA } from '../../src/contracts/search-attributes';
import { decideApprovalUpdate } from '../messages';
import { notificationActivities } from './activities';

export const NO_APPROVAL: ApprovalState = {
  status: 'not-required',
  requestId: null,
  requestedAt: null,
  expiresAt: null,
  notifiedVia: null,
  decidedBy: null,
  decidedAt: null,
  via: null,
  comment: null,
  approvedActions: null,
};

/** Throws (rejecting the Update without writing history) unless this decision may be accepted now. */
export function validateApprovalDecision(input: PlaybookInput, state: RunState, decision: ApprovalDecisionInput): void {
  if (state.approval.status !== 'pending') {
    throw new Error(`No approval is pending on this run (approval is ${state.approval.status}).`);
  }
  if (decision.requestId !== state.approval.requestId) {
    throw new Error('This approval request is not the current one; it authorises nothing.');
  }
  if (decision.decision !== 'approve' && decision.decision !== 'deny') {
    throw new Error(`Unknown decision "${String(decision.decision)}".`);
  }
  if (decision.actions !== undefined) {
    if (decision.decision !== 'approve') throw new Error('Only an approval names containment actions.');
    if (decision.actions.length === 0) throw new Error('An approval must name at least one containment action.');
    const unknown = decision.actions.filter((a) => !(CONTAINMENT_ACTIONS as readonly string[]).includes(a));
    if (unknown.length) throw new Error(`Unknown containment action(s): ${unknown.join(', ')}.`);
  }
  const approver = decision.approver.toLowerCase();
  if (!input.policy.approval.approvers.some((a) => a.id.toLowerCase() === approver)) {
    throw new Error(`${decision.approver} is not an authorised approver.`);
  }
  if (approver === input.alert.user.toLowerCase()) {
    throw new Error(`${decision.approver} is the subject of this alert and may not decide on it.`);
  }
  const hr = state.enrichment.hr;
  if (hr?.status === 'ok' && hr.value.manager !== null && hr.value.manager.toLowerCase() === approver) {
    throw new Error(`${decision.approver} is the manager of the alert's subject and may not decide on it.`);
  }
}

/** Registered when the run starts, so a decision that arrives at any time meets the validator. */
export function registerApprovalHandlers(input: PlaybookInput, state: RunState): void {
  setHandler(
    decideApprovalUpdate,
    (decision: ApprovalDecisionInput) => {
      state.approval = {
        ...state.approval,
        status: decision.decision === 'approve' ? 'approved' : 'denied',
        decidedBy: decision.approver,
        decidedAt: new Date().toISOString(),
        via: decision.via,
        comment: decision.comment ?? null,
        approvedActions: decision.decision === 'approve' ? [...(decision.actions ?? CONTAINMENT_ACTIONS)] : null,
      };
      return state.approval;
    },
    { validator: (decision: ApprovalDecisionInput) => validateApprovalDecision(input, state, decision) },
  );
}

/** Requests approval and waits for a decision or the deadline; leaves the outcome in `state.approval`. */
export async function requestAndAwaitApproval(input: PlaybookInput, state: RunState, decision: DecisionRecord): Promise<void> {
  const { alert, policy } = input;
  const requestedAt = new Date();
  state.approval = {
    ...NO_APPROVAL,
    status: 'pending',
    requestId: uuid4(),
    requestedAt: requestedAt.toISOString(),
    expiresAt: new Date(requestedAt.getTime() + policy.approval.timeoutMs).toISOString(),
  };
  upsertSearchAttributes([{ key: SA.approvalState, value: 'pending' }]);
  const notice = await notificationActivities.requestApproval.executeWithOptions(
    { summary: `Ask an approver to contain ${alert.user} / ${alert.host}` },
    [
      {
        workflowId: workflowInfo().workflowId,
        requestId: state.approval.requestId ?? '',
        alert,
        decision,
        expiresAt: state.approval.expiresAt ?? '',
        approvers: policy.approval.approvers,
      },
    ],
  );
  state.approval.notifiedVia = notice.via;

  const decided = await condition(() => state.approval.status !== 'pending', policy.approval.timeoutMs);
  if (!decided) {
    state.approval.status = 'expired';
    log.warn('Approval window expired; no containment (fail closed)');
  }
  upsertSearchAttributes([{ key: SA.approvalState, value: state.approval.status }]);
}
