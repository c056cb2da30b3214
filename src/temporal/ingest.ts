/**
 * Recording an alert in Temporal: update-with-start on the alert's case index (USE_EXISTING), which answers with
 * the case's workflow ID once the case start or the evidence signal is in history. Update IDs are left random on
 * purpose: a fixed one would make Temporal answer a SIEM's retry with the first delivery's result ("accepted")
 * instead of the index's "duplicate".
 *
 * The update needs a workflow task of the index, so under a storm that saturates the server its answer waits
 * behind everything else the server does. After `ingest.answerWithin` the alert is recorded by signal-with-start
 * instead: one history write, like a bare workflow start, durable when the call returns. The index routes the
 * signal like the update (a duplicate if the update got through as well), and the caller answers "recorded, case
 * pending": the case is not known yet.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { TemporalAvailability } from './availability';
import { MaybeRecorded, recordingFailure } from './recording-failure';
import { alertCaseIndex } from '../../workflows';
import { recordAlertSignal, routeAlertUpdate } from '../../workflows/messages';
import type { Config } from '../config';
import type { NormalizedAlert } from '../contracts/alert';
import type { RouteAlertResult } from '../contracts/playbook';
import { caseIndexIdFor, type CaseKeys } from '../ingest/case-key';
import { playbookInput } from './playbook-runs';

export const CASE_INDEX_WORKFLOW_TYPE = 'alertCaseIndex';

/** How long one alert may take to be recorded before the caller gets a 503 and retries. */
export const RECORD_DEADLINE_MS = 10_000;

/** Recorded by signal: durable, routed by the index later; the case it lands in is not known yet. */
export interface PendingRecord {
  pending: true;
  caseIndexId: string;
}

export type RecordResult = RouteAlertResult | PendingRecord;

export async function recordAlert(
  client: Client,
  config: Config,
  caseKeys: CaseKeys,
  alert: NormalizedAlert,
  options: { deadlineMs?: number; availability?: TemporalAvailability } = {},
): Promise<RecordResult> {
  const { availability } = options;
  const caseTaskQueue = config.temporal.taskQueue;
  const key = await caseKeys.of(alert);
  const indexId = caseIndexIdFor(key);
  const { policy } = playbookInput(config, alert);
  const index = {
    workflowId: indexId,
    taskQueue: config.temporal.ingestTaskQueue ?? caseTaskQueue,
    args: [{ user: key.user, service: key.service, dedupWindowMs: config.ingest.dedupWindow, caseTaskQueue }] as const,
    staticSummary: `T1567.002 case index for ${key.user} and ${key.service}`,
  };
  const deadline = Date.now() + (options.deadlineMs ?? RECORD_DEADLINE_MS);
  const answerBy = Math.min(deadline, Date.now() + config.ingest.answerWithin);
  try {
    const result = await client.connection.withDeadline(answerBy, () =>
      client.workflow.executeUpdateWithStart(routeAlertUpdate, {
        args: [{ alert, policy }],
        startWorkflowOperation: new WithStartWorkflowOperation(alertCaseIndex, {
          ...index,
          args: [...index.args],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      }),
    );
    availability?.succeeded();
    return result;
  } catch (err) {
    const failure = recordingFailure(err);
    // A refusal or an unreachable server is the caller's to report, and the next alerts check before sending.
    if (failure === 'not-recorded') availability?.failed();
    // Only when the update may still be under way (no answer in time) and there is time left.
    if (failure !== 'unknown' || answerBy >= deadline) throw err;
    // A storm (the index is slow, the server answers) or a server that has stopped answering: only a server that
    // answers a probe will take the signal, so a silent one is reported now, not at the deadline.
    if (availability && !(await availability.confirm())) throw new MaybeRecorded(err);
  }
  try {
    await client.connection.withDeadline(deadline, () =>
      client.workflow.signalWithStart(alertCaseIndex, {
        ...index,
        args: [...index.args],
        signal: recordAlertSignal,
        signalArgs: [{ alert, policy }],
      }),
    );
  } catch (err) {
    if (recordingFailure(err)) availability?.failed();
    // The update may have been recorded after all: whatever this failure says, the alert may be in Temporal.
    throw new MaybeRecorded(err);
  }
  availability?.succeeded();
  return { pending: true, caseIndexId: indexId };
}

/** Whether the alert was recorded by signal, its case still to be assigned by the index. */
export function isPending(result: RecordResult): result is PendingRecord {
  return 'pending' in result;
}

/** The case an answered alert went to; for callers that need it now (scripts, tests), a pending record is an error. */
export function caseOf(result: RecordResult): RouteAlertResult {
  if (isPending(result))
    throw new Error(`The case index ${result.caseIndexId} did not answer in time; the alert is recorded, its case pending`);
  return result;
}
