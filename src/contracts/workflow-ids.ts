/**
 * Workflow IDs and the case's workflow type, pure so the client side, the workflows and the case index's activity
 * (which starts cases) derive them alike.
 */
import type { NormalizedAlert } from './alert';

/** The playbook's workflow type: a case's. */
export const PLAYBOOK_WORKFLOW_TYPE = 'exfilToCloudStorage';

/** A case is named after the alert that opened it: the source and the alert's own ID (its dedup key). */
export function workflowIdFor(alert: Pick<NormalizedAlert, 'source' | 'alertId'>): string {
  return `t1567-002-${alert.source}-${alert.alertId}`;
}

/** The dedup key of an alert: the same alert from the same source is the same delivery. */
export function dedupKeyOf(alert: Pick<NormalizedAlert, 'source' | 'alertId'>): string {
  return `${alert.source}:${alert.alertId}`;
}
