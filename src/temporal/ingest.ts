/**
 * Recording an alert in Temporal: update-with-start on the alert's case index (USE_EXISTING), which answers with
 * the case's workflow ID once the case start or the evidence signal is in history. Update IDs are left random on
 * purpose: a fixed one would make Temporal answer a SIEM's retry with the first delivery's result ("accepted")
 * instead of the index's "duplicate".
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { alertCaseIndex } from '../../workflows';
import { routeAlertUpdate } from '../../workflows/messages';
import type { Config } from '../config';
import type { NormalizedAlert } from '../contracts/alert';
import type { RouteAlertResult } from '../contracts/playbook';
import { caseIndexIdFor, type CaseKeys } from '../ingest/case-key';
import { playbookInput } from './playbook-runs';

export const CASE_INDEX_WORKFLOW_TYPE = 'alertCaseIndex';

/** How long one alert may take to be recorded before the caller gets a 503 and retries. */
export const RECORD_DEADLINE_MS = 10_000;

export async function recordAlert(
  client: Client,
  config: Config,
  caseKeys: CaseKeys,
  alert: NormalizedAlert,
  options: { deadlineMs?: number } = {},
): Promise<RouteAlertResult> {
  const caseTaskQueue = config.temporal.taskQueue;
  const key = await caseKeys.of(alert);
  const indexId = caseIndexIdFor(key);
  const { policy } = playbookInput(config, alert);
  return client.connection.withDeadline(Date.now() + (options.deadlineMs ?? RECORD_DEADLINE_MS), () =>
    client.workflow.executeUpdateWithStart(routeAlertUpdate, {
      args: [{ alert, policy }],
      startWorkflowOperation: new WithStartWorkflowOperation(alertCaseIndex, {
        workflowId: indexId,
        taskQueue: config.temporal.ingestTaskQueue ?? caseTaskQueue,
        args: [{ user: key.user, service: key.service, dedupWindowMs: config.ingest.dedupWindow, caseTaskQueue }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `T1567.002 case index for ${key.user} and ${key.service}`,
      }),
    }),
  );
}
