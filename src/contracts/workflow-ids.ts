/**
 * Workflow IDs, pure so both the client side and the workflows (which start cases as children) derive them alike.
 */
import type { NormalizedAlert } from './alert';

/** A case is named after the alert that opened it: the source and the alert's own ID (its dedup key). */
export function workflowIdFor(alert: Pick<NormalizedAlert, 'source' | 'alertId'>): string {
  return `t1567-002-${alert.source}-${alert.alertId}`;
}

/** The dedup key of an alert: the same alert from the same source is the same delivery. */
export function dedupKeyOf(alert: Pick<NormalizedAlert, 'source' | 'alertId'>): string {
  return `${alert.source}:${alert.alertId}`;
}
