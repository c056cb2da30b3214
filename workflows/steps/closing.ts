/**
 * Step 5: the report, and the run closes. The report is built from the run state (report.ts, pure), published, and
 * the close is the last record of the run's audit trail.
 */
import type { RunState } from '../../src/contracts/playbook';
import { buildReport } from '../report';
import { notificationActivities } from './activities';
import { audit } from './audit';

/**
 * Publishes the final report and records the close; `state.outcome` is already final. `alongside`: an audit record
 * still being written (a benign decision's, runs of the patch set), awaited with the report, before the close.
 */
export async function reportAndClose(state: RunState, alongside?: Promise<void>): Promise<void> {
  const report = buildReport(state);
  state.report = report;
  const published = notificationActivities.publishReport.executeWithOptions({ summary: 'Publish the case report' }, [state]);
  await (alongside ? Promise.all([published, alongside]) : published);
  await audit(
    'run-closed',
    'playbook',
    { outcome: state.outcome, summary: report.summary, remainingT2Actions: report.remainingT2Actions },
    `run closed: ${state.outcome}`,
  );
  state.status = 'closed';
  state.closedAt = new Date().toISOString();
}
