/**
 * The case index: one long-lived workflow per case key (user + destination service) that decides, one alert at a
 * time, whether an alert is a duplicate, joins the open case, or opens a new one. The HTTP server reaches it with
 * update-with-start (conflict policy USE_EXISTING), so concurrent deliveries for the same key are serialized here,
 * in one deterministic place, instead of racing in the HTTP servers.
 *
 * - Duplicate: the dedup key (source + SIEM alert ID) was seen within the dedup window; or, beyond it, the alert
 *   opened a case whose workflow ID still exists (the child start is rejected as a duplicate).
 * - Join: a case is open: the alert is signalled to it as evidence. A case that closed meanwhile rejects the
 *   signal, and the alert opens a new case instead.
 * - Open: the case is started as a child with its own workflow ID, abandoned on close so it outlives the index.
 *
 * The update completes only after the child start or the signal is recorded in history, so the SIEM's 2xx follows
 * a durable record. Deterministic code only.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  setHandler,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CaseIndexInput, RouteAlertRequest, RouteAlertResult } from '../src/contracts/playbook';
import { SA } from '../src/contracts/search-attributes';
import { dedupKeyOf, workflowIdFor } from '../src/contracts/workflow-ids';
import { formatBytes } from './decide';
import { exfilToCloudStorage } from './exfil-to-cloud-storage';
import { addEvidenceSignal, routeAlertUpdate } from './messages';

/** A case with this many alerts takes no more: the next alert opens a new case (bounded history and state). */
export const MAX_ALERTS_PER_CASE = 100;

interface OpenCase {
  workflowId: string;
  alerts: number;
}

export async function alertCaseIndex(input: CaseIndexInput): Promise<void> {
  const seen = new Map(input.seen ?? []);
  let open: OpenCase | null = null;
  let lastAlertAt = Date.now();
  // Update handlers are async and would interleave at every await; a promise chain runs them one at a time.
  let queue: Promise<unknown> = Promise.resolve();

  const openCase = async ({ alert, policy }: RouteAlertRequest, key: string): Promise<RouteAlertResult> => {
    const workflowId = workflowIdFor(alert);
    try {
      const child = await startChild(exfilToCloudStorage, {
        workflowId,
        args: [{ alert, policy }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `${alert.user} uploaded ${formatBytes(alert.bytesOut)} to ${alert.destDomain} from ${alert.host} at ${alert.eventTime}`,
        staticDetails: `T1567.002 exfiltration to cloud storage. Alert ${alert.alertId} from ${alert.source}, rule "${alert.ruleName}", severity ${alert.severity}.`,
        typedSearchAttributes: [
          { key: SA.alertSource, value: alert.source },
          { key: SA.alertId, value: alert.alertId },
          { key: SA.alertUser, value: alert.user },
          { key: SA.alertHost, value: alert.host },
          { key: SA.destDomain, value: alert.destDomain.toLowerCase() },
          { key: SA.severity, value: alert.severity },
          { key: SA.bytesOut, value: alert.bytesOut },
        ],
      });
      const opened: OpenCase = { workflowId, alerts: 1 };
      open = opened;
      seen.set(key, { workflowId, at: Date.now() });
      // When the case closes, the next alert opens a new one.
      const closed = () => {
        if (open === opened) open = null;
      };
      child.result().then(closed, closed);
      return { workflowId, duplicate: false, joined: false };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // This alert opened a case before (beyond the window this index remembers): still a duplicate.
        seen.set(key, { workflowId, at: Date.now() });
        return { workflowId, duplicate: true, joined: false };
      }
      throw err;
    }
  };

  const route = async (request: RouteAlertRequest): Promise<RouteAlertResult> => {
    lastAlertAt = Date.now();
    const key = dedupKeyOf(request.alert);
    const known = seen.get(key);
    if (known) return { workflowId: known.workflowId, duplicate: true, joined: false };
    const current: OpenCase | null = open;
    if (current && current.alerts < MAX_ALERTS_PER_CASE) {
      try {
        await getExternalWorkflowHandle(current.workflowId).signal(addEvidenceSignal, request.alert);
        current.alerts++;
        seen.set(key, { workflowId: current.workflowId, at: Date.now() });
        return { workflowId: current.workflowId, duplicate: false, joined: true };
      } catch (err) {
        // The case closed between its last alert and this one: open a new case instead.
        log.info('Open case did not take the alert; opening a new case', { workflowId: current.workflowId, error: String(err) });
        if (open === current) open = null;
      }
    }
    return openCase(request, key);
  };

  setHandler(
    routeAlertUpdate,
    (request: RouteAlertRequest) => {
      const result = queue.then(() => route(request));
      queue = result.catch(() => undefined);
      return result;
    },
    {
      validator: (request: RouteAlertRequest) => {
        if (typeof request?.alert?.alertId !== 'string' || typeof request.alert.source !== 'string') {
          throw new Error('routeAlert needs an alert with a source and an alertId');
        }
      },
    },
  );

  for (;;) {
    const since = lastAlertAt;
    const active = await condition(
      () => lastAlertAt !== since || (open === null && workflowInfo().continueAsNewSuggested),
      input.dedupWindowMs,
    );
    if (open !== null) continue;
    if (!active) {
      // Quiet for the whole window with no case open: forget. The next alert starts a fresh index.
      await condition(allHandlersFinished);
      if (open === null && lastAlertAt === since) return;
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (open !== null) continue;
      const cutoff = Date.now() - input.dedupWindowMs;
      await continueAsNew<typeof alertCaseIndex>({ ...input, seen: [...seen].filter(([, v]) => v.at >= cutoff) });
    }
  }
}
