/** Activity proxies, grouped by the retry behaviour each kind of step needs. */
import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities, TemporalFailure } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import type { ContainmentPolicy } from '../../src/contracts/playbook';

export type Activities = ReturnType<typeof createActivities>;

/** Enrichment reads: short, retried with backoff; a permanent failure becomes an `unknown` finding. */
export const enrichmentActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/**
 * Enrichment steps that compute over data the worker has loaded (no vendor call of their own): local activities,
 * with the retries of `enrichmentActivities`. Retries past a minute wait on a workflow timer (the SDK's local retry
 * threshold), so a slow retry does not hold the workflow task open.
 */
export const localEnrichmentActivities = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/** Notifications and reports: must get through, so more patience. */
export const notificationActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '30m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m' },
});

/**
 * Edits of the approval message, reminders, escalation: best effort with a short budget. The run never waits long
 * on Slack to contain or to close; a failure is logged and recorded, not fatal.
 */
export const progressActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * Endpoint isolation and its release: verified by polling the vendor, so the attempt may run for the whole
 * verification budget; it heartbeats every poll, so a dead worker is noticed within the heartbeat timeout and the
 * next attempt resumes from the last heartbeat instead of asking again. Bounded: a dead vendor ends in `failed`.
 */
export function isolationActivities(policy: ContainmentPolicy) {
  return proxyActivities<Activities>({
    startToCloseTimeout: policy.verifyTimeoutMs + 2 * 60_000,
    heartbeatTimeout: policy.heartbeatTimeoutMs,
    scheduleToCloseTimeout: 2 * policy.verifyTimeoutMs + 10 * 60_000,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
  });
}

/** Access revocation and its undo: a few short vendor calls, idempotent, retried with backoff; bounded. */
export const accessActivities = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
});

/**
 * Access steps of runs that record the state before each change (patch `containment-pre-state`): heartbeated (the
 * activities keep themselves alive), so a dead worker is noticed within the heartbeat timeout, not after 2 minutes.
 */
export function accessActivitiesFor(policy: ContainmentPolicy) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '2m',
    heartbeatTimeout: policy.heartbeatTimeoutMs,
    scheduleToCloseTimeout: '15m',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
  });
}

/**
 * The patch behind the two-step containment: the state before a change (devices and their isolation state, an app
 * assignment, a suspension) is recorded by its own activity before the change, so a crash or a lost answer after the
 * vendor acted cannot turn "this run did it" into "it was already so". Runs without the marker keep one step.
 */
export const PRE_STATE_PATCH = 'containment-pre-state';

/**
 * The patch behind the Tier 2 escalation of a failed containment action (issue #16): a run whose containment failed
 * (in part or whole) escalates it as it escalates a refusal. Runs without the marker closed their failed containment
 * without that activity and replay as they ran.
 */
export const TIER2_ON_FAILURE_PATCH = 'tier2-on-containment-failure';

/**
 * The message of the failure behind an activity's failure, for findings and reports. A local activity's failure is
 * that failure itself (no ActivityFailure around it): its own message.
 */
export function failureReason(err: TemporalFailure): string {
  if (!(err instanceof ActivityFailure)) return err.message;
  const cause = err.cause;
  return cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : err.message;
}
