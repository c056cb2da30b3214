/**
 * Step 5: the report, and the run closes. The report is built from the run state (report.ts, pure), published, and
 * the close is the last record of the run's audit trail.
 */
import type { AuditEvent } from '../../src/audit/audit-log';
import type { RunState } from '../../src/contracts/playbook';
import { inPatchSet2 } from '../patches';
import { buildReport } from '../report';
import { notificationActivities } from './activities';
import { audit, auditEvent, recordAndPublish } from './audit';

/**
 * Publishes the final report and records the close; `state.outcome` is already final. `alongside`: an audit record
 * still being written (a benign decision's, runs of the first patch set), awaited with the report, before the close.
 *
 * Runs of the second patch set close in one activity: `pending` (a benign decision's record, not yet written), the
 * report, then the close's record, in that order. One activity and one workflow task instead of a report activity,
 * an audit activity for the decision beside it and one for the close after it.
 */
export async function reportAndClose(state: RunState, alongside?: Promise<void>, pending: AuditEvent[] = []): Promise<void> {
  const report = buildReport(state);
  state.report = report;
  const closed = { outcome: state.outcome, summary: report.summary, remainingT2Actions: report.remainingT2Actions };
  if (inPatchSet2()) {
    await alongside;
    await recordAndPublish(
      state,
      { before: pending, after: [auditEvent('run-closed', 'playbook', closed)] },
      `Publish the case report; audit: run closed: ${state.outcome}`,
    );
  } else {
    const published = notificationActivities.publishReport.executeWithOptions({ summary: 'Publish the case report' }, [state]);
    await (alongside ? Promise.all([published, alongside]) : published);
    await audit('run-closed', 'playbook', closed, `run closed: ${state.outcome}`);
  }
  state.status = 'closed';
  state.closedAt = new Date().toISOString();
}
