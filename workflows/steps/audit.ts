/**
 * Audit records from the workflow: every decision, approval and action goes to the append-only, hash-chained audit
 * trail through an activity (workflows do no I/O). The activity retries without limit: a broken audit sink holds the
 * run at that step, visibly, rather than letting it act unrecorded (fail closed).
 *
 * The run's own chain (patch `audit-run-chain`): each record carries the `runHash` of the run's previous record, so
 * the run's records form one verifiable chain whichever worker host's file each lands in (docs/operations/audit.md).
 * The workflow keeps the head of that chain; records are appended one after the other so the chain never forks.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import { patchedInSet } from '../patches';
import type { createActivities } from '../../activities';
import type { AuditEventType } from '../../src/audit/audit-log';

const { recordAuditEvent } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

export const AUDIT_RUN_CHAIN_PATCH = 'audit-run-chain';
/** The `runPrevHash` of a run's first record (the same as the file chain's genesis). */
const RUN_GENESIS = '0'.repeat(64);

/** Module state is per workflow run (the SDK gives every run its own module instances). */
let runHead = RUN_GENESIS;
let previous: Promise<unknown> = Promise.resolve();

/** Writes one audit record; `key` makes it unique within the run (a retried activity does not write twice). */
export async function audit(
  type: AuditEventType,
  actor: string,
  data: Record<string, unknown>,
  summary: string,
  key: string = type,
): Promise<void> {
  const { workflowId, runId } = workflowInfo();
  const event = { type, eventKey: `${workflowId}/${runId}/${key}`, workflowId, runId, actor, at: new Date().toISOString(), data };
  if (!patchedInSet(AUDIT_RUN_CHAIN_PATCH)) {
    await recordAuditEvent.executeWithOptions({ summary: `Audit: ${summary}` }, [event]);
    return;
  }
  const append = previous.then(async () => {
    const receipt = await recordAuditEvent.executeWithOptions({ summary: `Audit: ${summary}` }, [{ ...event, runPrevHash: runHead }]);
    if (receipt.runHash) runHead = receipt.runHash;
  });
  previous = append.catch(() => undefined);
  await append;
}
