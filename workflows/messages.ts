import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { NormalizedAlert } from '../src/contracts/alert';
import type { ApprovalDecisionInput, ApprovalState, RouteAlertRequest, RouteAlertResult, RunState } from '../src/contracts/playbook';

/** The run's current state: the same document `GET /runs/:id` returns. */
export const getStateQuery = defineQuery<RunState>('getState');

/**
 * A human decision on the pending approval request. The validator rejects (without writing history) a decision
 * from someone who is not an approver, from the alert's subject or their manager, for a request that is not the
 * current one, or when no request is pending.
 */
export const decideApprovalUpdate = defineUpdate<ApprovalState, [ApprovalDecisionInput]>('decideApproval');

/**
 * Sent to a case's index (one per user and destination service): records the alert in the open case, opens a new
 * case, or reports a duplicate. Completes only once the case start or the evidence signal is durably recorded.
 */
export const routeAlertUpdate = defineUpdate<RouteAlertResult, [RouteAlertRequest]>('routeAlert');

/** From the case index to an open case: another alert for the same user and destination service. */
export const addEvidenceSignal = defineSignal<[NormalizedAlert]>('addEvidence');
