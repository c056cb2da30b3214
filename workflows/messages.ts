import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { NormalizedAlert } from '../src/contracts/alert';
import type {
  AlertRouting,
  ApprovalDecisionInput,
  ApprovalState,
  ContainmentReviewInput,
  LeaseState,
  ReleaseState,
  RouteAlertRequest,
  RouteAlertResult,
  RunState,
} from '../src/contracts/playbook';

/** The run's current state: the same document `GET /runs/:id` returns. */
export const getStateQuery = defineQuery<RunState>('getState');

/**
 * A human decision on the pending approval request. The validator rejects (without writing history) a decision
 * from someone who is not an approver, from the alert's subject or their manager, for a request that is not the
 * current one, or when no request is pending.
 */
export const decideApprovalUpdate = defineUpdate<ApprovalState, [ApprovalDecisionInput]>('decideApproval');

/**
 * Release the containment (lift isolation, restore access) of a contained run that holds for release. The validator
 * applies the approver rules of `decideApproval`; the Update completes when the release steps have finished and
 * returns what was and was not undone.
 */
export const releaseContainmentUpdate = defineUpdate<ReleaseState, [ContainmentReviewInput]>('releaseContainment');

/** Confirm the containment: stops the lease from re-escalating it to Tier 2. Same approver rules. */
export const confirmContainmentUpdate = defineUpdate<LeaseState, [ContainmentReviewInput]>('confirmContainment');

/**
 * Sent to a case's index (one per user and destination service): records the alert in the open case, opens a new
 * case, or reports a duplicate. Completes only once the case start or the evidence signal is durably recorded.
 */
export const routeAlertUpdate = defineUpdate<RouteAlertResult, [RouteAlertRequest]>('routeAlert');

/**
 * The same request as `routeAlert`, by signal-with-start: what the webhook sends when the index did not answer the
 * update in time. Durable once the call returns; routed like the update, and a duplicate when the update got
 * through too. Nobody waits for its outcome.
 */
export const recordAlertSignal = defineSignal<[RouteAlertRequest]>('recordAlert');

/**
 * To a case index: where it routed the alert with this dedup key (`source:alertId`), or null when it has not routed
 * it (not yet, or it never arrived, or it was seen before the window this index remembers). A read: no history.
 */
export const alertRoutingQuery = defineQuery<AlertRouting | null, [string]>('alertRouting');

/** From the case index to an open case: another alert for the same user and destination service. */
export const addEvidenceSignal = defineSignal<[NormalizedAlert]>('addEvidence');
