/**
 * The uploads of the alerts the playbook has recorded for a user, read from Temporal itself. Every case (run of the
 * playbook, since rule version /2) keeps the uploads of its alerts in its memo, `uploads`: source, alert ID, event
 * time and bytes, no user name and nothing else from the alert. Cases are found by the `AlertUser` search attribute
 * every case already carries, and the memo comes back with the visibility listing, so one List call answers, with
 * no query to a running case (which would wait for a worker of its task queue). Temporal is the one store every
 * worker shares: a case decided by one worker sees the alerts every other worker recorded.
 *
 * The asking case is left out: it counts its own alerts. Cases started before /2 have no memo and are not counted.
 */
import type { Client } from '@temporalio/client';
import type { RecordedUpload, RecordedUploads } from '../contracts/ports';
import { UPLOADS_MEMO } from '../contracts/search-attributes';
import { PLAYBOOK_WORKFLOW_TYPE } from '../contracts/workflow-ids';

/** A user with more cases than this in one day fails the lookup (the volume rule then fails closed). */
export const MAX_RUNS_PER_DAY = 500;

/** A string literal of Temporal's visibility query language. */
function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function isUpload(value: unknown): value is RecordedUpload {
  const u = value as Partial<RecordedUpload> | null;
  return (
    typeof u?.source === 'string' &&
    typeof u.alertId === 'string' &&
    typeof u.eventTime === 'string' &&
    typeof u.bytesOut === 'number' &&
    Number.isFinite(u.bytesOut)
  );
}

export class TemporalRecordedUploads implements RecordedUploads {
  readonly name = 'temporal:case-memos';

  constructor(
    private readonly client: Client,
    /** The asking case, left out. */
    private readonly exceptWorkflowId: string | null,
    private readonly maxRuns = MAX_RUNS_PER_DAY,
  ) {}

  /** The visibility query for the cases of `user` that were open at some point since `from`. */
  static query(user: string, from: string): string {
    return (
      `WorkflowType = ${literal(PLAYBOOK_WORKFLOW_TYPE)} AND AlertUser = ${literal(user)} ` +
      `AND (ExecutionStatus = 'Running' OR CloseTime >= ${literal(from)})`
    );
  }

  async uploadsOf(user: string, window: { from: string; to: string }): Promise<RecordedUpload[]> {
    const from = Date.parse(window.from);
    const to = Date.parse(window.to);
    const found = new Map<string, RecordedUpload>();
    let runs = 0;
    for await (const run of this.client.workflow.list({ query: TemporalRecordedUploads.query(user, window.from) })) {
      if (run.workflowId === this.exceptWorkflowId) continue;
      if (++runs > this.maxRuns) {
        throw new Error(`more than ${this.maxRuns} cases for ${user} since ${window.from}; the day's uploads are not counted`);
      }
      const uploads: unknown = run.memo?.[UPLOADS_MEMO];
      if (!Array.isArray(uploads)) continue;
      for (const u of uploads) {
        if (!isUpload(u)) continue;
        const t = Date.parse(u.eventTime);
        if (!(t >= from && t < to)) continue;
        found.set(JSON.stringify([u.source, u.alertId]), {
          source: u.source,
          alertId: u.alertId,
          eventTime: u.eventTime,
          bytesOut: u.bytesOut,
        });
      }
    }
    return [...found.values()];
  }
}
