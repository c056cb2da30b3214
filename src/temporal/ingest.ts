/**
 * Recording an alert in Temporal. By default (`ingest.answerWithin` 0) by signal-with-start on the alert's case
 * index: one history write, like a bare workflow start, durable when the call returns, with no worker round trip.
 * The index routes the signal later (a new case, a join, or a duplicate: routing an alert twice is harmless), and
 * the caller answers "recorded, case pending"; where the alert went is read back with `alertRouting` (the
 * webhook's `GET /alerts/...`).
 *
 * With `ingest.answerWithin` above 0 the webhook first tries update-with-start (USE_EXISTING), which answers with
 * the case's workflow ID once the index has decided; the update needs a workflow task of the index, so under load
 * its answer waits behind everything else the server does, and past `answerWithin` the alert is recorded by
 * signal-with-start as above (a duplicate if the update got through as well). Update IDs are left random on
 * purpose: a fixed one would make Temporal answer a SIEM's retry with the first delivery's result ("accepted")
 * instead of the index's "duplicate".
 */
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TemporalAvailability } from './availability';
import { MaybeRecorded, recordingFailure } from './recording-failure';
import { alertCaseIndex } from '../../workflows';
import { alertRoutingQuery, recordAlertSignal, routeAlertUpdate } from '../../workflows/messages';
import type { Config } from '../config';
import type { NormalizedAlert } from '../contracts/alert';
import type { AlertRouting, RouteAlertResult } from '../contracts/playbook';
import { dedupKeyOf, workflowIdFor } from '../contracts/workflow-ids';
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
  // The record without the index's answer: one signal-with-start, durable when it returns.
  const recordBySignal = () =>
    client.connection.withDeadline(deadline, () =>
      client.workflow.signalWithStart(alertCaseIndex, {
        ...index,
        args: [...index.args],
        signal: recordAlertSignal,
        signalArgs: [{ alert, policy }],
      }),
    );
  if (config.ingest.answerWithin === 0) {
    // Nothing was tried before: a failure says what it says (refused or never sent: not recorded; else unknown).
    try {
      await recordBySignal();
    } catch (err) {
      if (recordingFailure(err) === 'not-recorded') availability?.failed();
      throw err;
    }
    availability?.succeeded();
    return { pending: true, caseIndexId: indexId };
  }
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
    await recordBySignal();
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

/**
 * Where the case index `caseIndexId` routed the alert `source:alertId`: its case, or null when the index has not
 * routed it (not yet, or it never arrived) or does not exist (it was never written, or it ended after its dedup
 * window).
 *
 * A case is named after the alert that opened it, so a case with the alert's own workflow ID is the alert's (opened
 * by it, or by an earlier delivery of it): that is asked first, of the server alone. Only an alert that opened no case
 * (a join, or one not routed yet) costs a query of its index, which a worker answers, replaying the index's history
 * when it is out of the cache. Status polls of a storm are mostly such first alerts (60% of the bench's storm), and a
 * flood of queries to indexes out of the cache is what the ingest worker handles worst: `admit` runs the query, so a
 * caller can bound how many run at once and for how long (the read API's `StatusQueryGate`).
 */
export async function alertRouting(
  client: Client,
  caseIndexId: string,
  alert: { source: NormalizedAlert['source']; alertId: string },
  admit: <T>(query: () => Promise<T>) => Promise<T> = (query) => query(),
): Promise<AlertRouting | null> {
  const opened = workflowIdFor(alert);
  try {
    await client.workflow.getHandle(opened).describe();
    return { workflowId: opened, joined: false };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  try {
    return await admit(() => client.workflow.getHandle(caseIndexId).query(alertRoutingQuery, dedupKeyOf(alert)));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
