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
import type { AuditEvent, AuditEventType } from '../../src/audit/audit-log';
import type { RunState } from '../../src/contracts/playbook';

const { recordAuditEvent, publishReportAndRecord } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

export const AUDIT_RUN_CHAIN_PATCH = 'audit-run-chain';
/** The `runPrevHash` of a run's first record (the same as the file chain's genesis). */
const RUN_GENESIS = '0'.repeat(64);

/** Module state is per workflow run (the SDK gives every run its own module instances). */
let runHead = RUN_GENESIS;
let previous: Promise<unknown> = Promise.resolve();

/** An audit record of this run, as of now (workflow time); `key` makes it unique within the run. */
export function auditEvent(type: AuditEventType, actor: string, data: Record<string, unknown>, key: string = type): AuditEvent {
  const { workflowId, runId } = workflowInfo();
  return { type, eventKey: `${workflowId}/${runId}/${key}`, workflowId, runId, actor, at: new Date().toISOString(), data };
}

/** Writes one audit record; `key` makes it unique within the run (a retried activity does not write twice). */
export async function audit(
  type: AuditEventType,
  actor: string,
  data: Record<string, unknown>,
  summary: string,
  key: string = type,
): Promise<void> {
  const event = auditEvent(type, actor, data, key);
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

/**
 * The close in one activity (runs of the second patch set): appends `before` (a benign decision's record), publishes
 * the report, then appends `after` (the close's record). Each record follows the run's previous one in its chain, as
 * records appended one by one do. With the run's audit chain only (every run of the set has it).
 */
export async function recordAndPublish(
  state: RunState,
  records: { before: AuditEvent[]; after: AuditEvent[] },
  summary: string,
): Promise<void> {
  const step = previous.then(async () => {
    const { runHash } = await publishReportAndRecord.executeWithOptions({ summary }, [{ state, ...records, runPrevHash: runHead }]);
    if (runHash) runHead = runHash;
  });
  previous = step.catch(() => undefined);
  await step;
}
