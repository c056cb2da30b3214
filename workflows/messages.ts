import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecisionInput, ApprovalState, RunState } from '../src/contracts/playbook';

/** The run's current state: the same document `GET /runs/:id` returns. */
export const getStateQuery = defineQuery<RunState>('getState');

/**
 * A human decision on the pending approval request. The validator rejects (without writing history) a decision
 * from someone who is not an approver, from the alert's subject or their manager, for a request that is not the
 * current one, or when no request is pending.
 */
export const decideApprovalUpdate = defineUpdate<ApprovalState, [ApprovalDecisionInput]>('decideApproval');
