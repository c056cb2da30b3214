/**
 * Audit records from the workflow: every decision, approval and action goes to the append-only, hash-chained audit
 * trail through an activity (workflows do no I/O). The activity retries without limit: a broken audit sink holds the
 * run at that step, visibly, rather than letting it act unrecorded (fail closed).
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import type { AuditEventType } from '../../src/audit/audit-log';

const { recordAuditEvent } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Writes one audit record; `key` makes it unique within the run (a retried activity does not write twice). */
export async function audit(
  type: AuditEventType,
  actor: string,
  data: Record<string, unknown>,
  summary: string,
  key: string = type,
): Promise<void> {
  const { workflowId, runId } = workflowInfo();
  await recordAuditEvent.executeWithOptions({ summary: `Audit: ${summary}` }, [
    { type, eventKey: `${workflowId}/${runId}/${key}`, workflowId, runId, actor, at: new Date().toISOString(), data },
  ]);
}
