/**
 * The uploads of the alerts the playbook has recorded for a user, read from Temporal itself: every case (run of the
 * playbook) lists its alerts in its state, and the runs are found by the `AlertUser` search attribute every case
 * already carries. Temporal is the one store all workers share, so a case decided by one worker sees the alerts
 * every other worker recorded; nothing new is written to Temporal (no new search attribute, no personal data beyond
 * what each case already holds).
 *
 * Runs are listed by visibility (running, or closed since the window began); a closed run's alerts come from its
 * result, a running one's from its state query. The asking case is left out: it counts its own alerts.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { getStateQuery } from '../../workflows/messages';
import type { RunState } from '../contracts/playbook';
import type { RecordedUpload, RecordedUploads } from '../contracts/ports';
import { PLAYBOOK_WORKFLOW_TYPE } from './playbook-runs';

/** A user with more cases than this in one day fails the lookup (the volume rule then fails closed). */
export const MAX_RUNS_PER_DAY = 200;

/** A string literal of Temporal's visibility query language. */
function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export class TemporalRecordedUploads implements RecordedUploads {
  readonly name = 'temporal:playbook-runs';

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
    const runs: { workflowId: string; runId: string; status: string }[] = [];
    for await (const run of this.client.workflow.list({ query: TemporalRecordedUploads.query(user, window.from) })) {
      if (run.workflowId === this.exceptWorkflowId) continue;
      runs.push({ workflowId: run.workflowId, runId: run.runId, status: run.status.name });
      if (runs.length > this.maxRuns) {
        throw new Error(`more than ${this.maxRuns} cases for ${user} since ${window.from}; the day's uploads are not counted`);
      }
    }
    const states = await Promise.all(runs.map((run) => this.stateOf(run)));
    const from = Date.parse(window.from);
    const to = Date.parse(window.to);
    const found = new Map<string, RecordedUpload>();
    for (const state of states) {
      for (const a of state?.alerts ?? []) {
        const t = Date.parse(a.eventTime);
        if (!(t >= from && t < to)) continue;
        found.set(JSON.stringify([a.source, a.alertId]), {
          source: a.source,
          alertId: a.alertId,
          eventTime: a.eventTime,
          bytesOut: a.bytesOut,
        });
      }
    }
    return [...found.values()];
  }

  private async stateOf(run: { workflowId: string; runId: string; status: string }): Promise<RunState | null> {
    const handle = this.client.workflow.getHandle(run.workflowId, run.runId);
    try {
      if (run.status === 'COMPLETED') return (await handle.result()) as RunState;
      return await handle.query(getStateQuery);
    } catch (err) {
      // Gone meanwhile (retention): nothing to count.
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }
}
