/** Activity proxies, grouped by the retry behaviour each kind of step needs. */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import type { ContainmentPolicy } from '../../src/contracts/playbook';

type Activities = ReturnType<typeof createActivities>;

/** Enrichment reads: short, retried with backoff; a permanent failure becomes an `unknown` finding. */
export const enrichmentActivities = proxyActivities<Activities>({
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

/** The message of the failure behind an activity's failure, for findings and reports. */
export function failureReason(err: ActivityFailure): string {
  const cause = err.cause;
  return cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : err.message;
}
