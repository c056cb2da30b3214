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
 * A new case and a duplicate are answered in the workflow task that decides: the update's request (the alert) is in
 * history from the moment it is accepted, and the child start is a command recorded atomically with the task that
 * completes the update, so the SIEM's 2xx still follows a durable record, one workflow task after the alert arrives
 * instead of two. What the server does with those commands later is followed up here:
 * - a join is answered once its signal reached the case, so the answer names the case the alert really joined: a
 *   signal that finds the case closed (it closed in that instant) opens a new case for the alert instead; an alert
 *   that joins a case whose start is not yet confirmed is held and signalled once the child has started (a signal
 *   could otherwise overtake the start and find no workflow);
 * - a child start refused because the workflow ID exists means the alert opened a case before, beyond the window
 *   this index remembers: the answer named that case, which is where the alert is.
 * Runs that started before this change keep the old behaviour, awaiting each start and signal (patch
 * `route-in-one-task`).
 *
 * Indexes in patch `case-start-by-activity` start a case with a local activity (the worker's client, in the workflow
 * task that routes the alert) instead of as a child: the index's history takes no child events and no workflow
 * tasks for them, and the answer follows the case's start. The index is not the case's parent, so it does not hear
 * when the case closes: a join the closed case refuses opens a new case, and at the end of its quiet window the
 * index asks whether its case still runs and stays while it does. Continue-as-new carries the open case.
 * Deterministic code only.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  proxyLocalActivities,
  setHandler,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { NormalizedAlert } from '../src/contracts/alert';
import type { CaseIndexInput, RouteAlertRequest, RouteAlertResult } from '../src/contracts/playbook';
import { dedupKeyOf, workflowIdFor } from '../src/contracts/workflow-ids';
import { caseStartOptions } from './case-summary';
import { formatBytes } from './decide';
import { exfilToCloudStorage } from './exfil-to-cloud-storage';
import type { Activities } from './steps/activities';
import { addEvidenceSignal, alertRoutingQuery, recordAlertSignal, routeAlertUpdate } from './messages';

/** A case with this many alerts takes no more: the next alert opens a new case (bounded history and state). */
export const MAX_ALERTS_PER_CASE = 100;

interface OpenCase {
  workflowId: string;
  alerts: number;
  /** Whether the child's start is confirmed; until then, joining alerts wait in `held` (with their answers). */
  started?: boolean;
  held?: { request: RouteAlertRequest; answer: (result: RouteAlertResult | Promise<RouteAlertResult>) => void }[];
}

/** A case's child workflow: abandoned on close so it outlives the index; one run per alert that opens a case. */
const childOptions = {
  parentClosePolicy: ParentClosePolicy.ABANDON,
  workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
};

/**
 * The case start of indexes in patch `case-start-by-activity`: a local activity in the workflow task that routes the
 * alert. Retried until it gets through (Temporal answers the worker that runs it): an alert is never left without
 * its case; the update's caller falls back to its signal meanwhile (src/temporal/ingest.ts), which routes the same.
 */
const { startCase, caseIsRunning } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** The start options of indexes that began before `route-in-one-task` (raw ISO time in the summary). */
function legacyStartOptions({ alert }: RouteAlertRequest) {
  return {
    ...caseStartOptions(alert),
    staticSummary: `${alert.user} uploaded ${formatBytes(alert.bytesOut)} to ${alert.destDomain} from ${alert.host} at ${alert.eventTime}`,
  };
}

export async function alertCaseIndex(input: CaseIndexInput): Promise<void> {
  const seen = new Map(input.seen ?? []);
  let open: OpenCase | null = null;
  let lastAlertAt = Date.now();
  // Update handlers are async and would interleave at every await; a promise chain runs them one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  /** Dedup keys of joins whose signal has not yet reached the case: their routing is not final. */
  const joining = new Set<string>();

  // Whether it starts its cases by a local activity, not as children (see the header); false in older indexes. It
  // implies the one-task answer, so a new index records one patch marker (and one search-attribute upsert), not two.
  const byActivity = patched('case-start-by-activity');
  // Whether this index answers in one workflow task (see the header); false while replaying an older index.
  const inOneTask = byActivity || patched('route-in-one-task');
  if (byActivity && input.openCase) open = { ...input.openCase, started: true, held: [] };

  const openCase = async ({ alert, policy }: RouteAlertRequest, key: string): Promise<RouteAlertResult> => {
    const workflowId = workflowIdFor(alert);
    try {
      const child = await startChild(exfilToCloudStorage, {
        ...legacyStartOptions({ alert, policy }),
        ...childOptions,
        args: [{ alert, policy }],
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

  /**
   * Sends a joined alert to its (started) case. The answer waits for the signal's outcome, so it names the case the
   * alert really joined: one that closed in that instant refuses it, and the alert opens a new case instead.
   */
  const deliver = (target: OpenCase, request: RouteAlertRequest): Promise<RouteAlertResult> =>
    getExternalWorkflowHandle(target.workflowId)
      .signal(addEvidenceSignal, request.alert)
      .then(
        () => ({ workflowId: target.workflowId, duplicate: false, joined: true }),
        (err: unknown) => {
          log.info('Open case did not take the alert; opening a new case', { workflowId: target.workflowId, error: String(err) });
          if (open === target) open = null;
          return openInstead(request);
        },
      );

  /**
   * Opens a case by activity: answered once the case's workflow exists. Joiners that arrive meanwhile are held and
   * signalled after. A case that exists already (this alert opened it before: beyond the window, or in an attempt
   * whose answer was lost) is this alert's, and the answer says duplicate; it stays the open case, and a joiner it
   * refuses (it has closed) opens a case of its own.
   */
  const openByActivity = async (request: RouteAlertRequest): Promise<RouteAlertResult> => {
    const key = dedupKeyOf(request.alert);
    const opened: OpenCase = { workflowId: workflowIdFor(request.alert), alerts: 1, started: false, held: [] };
    open = opened;
    seen.set(key, { workflowId: opened.workflowId, at: Date.now() });
    joining.add(key);
    try {
      const { started } = await startCase({
        ...request,
        start: caseStartOptions(request.alert),
        taskQueue: input.caseTaskQueue ?? workflowInfo().taskQueue,
      });
      opened.started = true;
      for (const joiner of opened.held?.splice(0) ?? []) joiner.answer(deliver(opened, joiner.request));
      return { workflowId: opened.workflowId, duplicate: !started, joined: false };
    } finally {
      joining.delete(key);
    }
  };

  /** A joiner whose case could not take it opens a case of its own (its alert is recorded under the new ID). */
  const openInstead = (request: RouteAlertRequest): RouteAlertResult | Promise<RouteAlertResult> => {
    if (byActivity) return openByActivity(request);
    const opened = openNow(request);
    seen.set(dedupKeyOf(request.alert), { workflowId: opened.workflowId, at: Date.now() });
    return { workflowId: opened.workflowId, duplicate: false, joined: false };
  };

  /** Starts a case for the alert without waiting for the start to be confirmed; joiners are held until it is. */
  const openNow = (request: RouteAlertRequest): OpenCase => {
    const opened: OpenCase = { workflowId: workflowIdFor(request.alert), alerts: 1, started: false, held: [] };
    open = opened;
    const closed = () => {
      if (open === opened) open = null;
    };
    startChild(exfilToCloudStorage, {
      ...caseStartOptions(request.alert),
      ...childOptions,
      ...(input.caseTaskQueue ? { taskQueue: input.caseTaskQueue } : {}),
      args: [request],
    }).then(
      (child) => {
        opened.started = true;
        for (const joiner of opened.held?.splice(0) ?? []) joiner.answer(deliver(opened, joiner.request));
        child.result().then(closed, closed);
      },
      (err: unknown) => {
        closed();
        // A refused start (the ID exists: this alert opened a case before, beyond the window) leaves the alert with
        // that case. Held joiners must not be lost: each opens a case of its own.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError))
          log.warn('Case start failed', { workflowId: opened.workflowId, error: String(err) });
        for (const joiner of opened.held?.splice(0) ?? []) joiner.answer(openInstead(joiner.request));
      },
    );
    return opened;
  };

  /**
   * The decision for one alert, taken in the workflow task that carries the update. A new case and a duplicate are
   * answered in that task; a join is answered once its signal has reached the case.
   */
  const routeNow = (request: RouteAlertRequest): RouteAlertResult | Promise<RouteAlertResult> => {
    lastAlertAt = Date.now();
    const key = dedupKeyOf(request.alert);
    const known = seen.get(key);
    if (known) return { workflowId: known.workflowId, duplicate: true, joined: false };
    const current: OpenCase | null = open;
    if (current && current.alerts < MAX_ALERTS_PER_CASE) {
      current.alerts++;
      seen.set(key, { workflowId: current.workflowId, at: Date.now() });
      // Not told by `alertRouting` until the case took the signal: a case that closed meanwhile refuses it, and the
      // alert opens a case of its own instead.
      joining.add(key);
      const joined = current.started
        ? deliver(current, request)
        : new Promise<RouteAlertResult>((answer) => current.held?.push({ request, answer }));
      return joined.finally(() => joining.delete(key));
    }
    return openInstead(request);
  };

  /** Routes an alert the same way whichever message brought it (the update, or the signal below). */
  const routeAny = (request: RouteAlertRequest): Promise<RouteAlertResult> => {
    // Decided once every job of this workflow task has been applied (a condition is checked only then): the order
    // of an update and, say, the close of the open case within one task may differ between the first run and a
    // replay, and the decision must not.
    if (inOneTask) return condition(() => true).then(() => routeNow(request));
    const result = queue.then(() => route(request));
    queue = result.catch(() => undefined);
    return result;
  };
  const validRequest = (request: RouteAlertRequest): boolean =>
    typeof request?.alert?.alertId === 'string' && typeof request.alert.source === 'string';

  setHandler(routeAlertUpdate, routeAny, {
    validator: (request: RouteAlertRequest) => {
      if (!validRequest(request)) throw new Error('routeAlert needs an alert with a source and an alertId');
    },
  });

  // The same alert by signal-with-start, when the update was not answered in time (src/temporal/ingest.ts): the
  // signal is in history once the call returns, and routing it is idempotent (a second routing of an alert is a
  // duplicate), so it does not matter whether the update also got through. Async, so the index does not end while
  // it is being routed; the quiet clock restarts at once for the same reason.
  setHandler(recordAlertSignal, async (request: RouteAlertRequest) => {
    if (!validRequest(request)) {
      log.warn('recordAlert signal without an alert source and ID; ignored');
      return;
    }
    lastAlertAt = Date.now();
    // The alert stays in this history as the signal's input whatever happens here; a failure is a bug to see in the
    // log, not a reason to fail the index's task again and again.
    await routeAny(request).catch((err: unknown) =>
      log.error('Routing a signalled alert failed', { alertId: request.alert.alertId, error: String(err) }),
    );
  });

  // Where an alert went, for the webhook's status endpoint: alerts acknowledged before routing (the 202 "recorded,
  // case pending" answer) are told their case here. A case is named after the alert that opened it.
  setHandler(alertRoutingQuery, (dedupKey: string) => {
    const known = seen.get(dedupKey);
    if (!known || joining.has(dedupKey)) return null;
    // A dedup key is `source:alertId`, and no source name holds a colon.
    const colon = dedupKey.indexOf(':');
    const opener = workflowIdFor({ source: dedupKey.slice(0, colon) as NormalizedAlert['source'], alertId: dedupKey.slice(colon + 1) });
    return { workflowId: known.workflowId, joined: known.workflowId !== opener };
  });

  /** A fresh history carrying what the window still remembers; not while a case is open (it would lose track). */
  const continueAsNewWhenNoCaseIsOpen = async () => {
    await condition(allHandlersFinished);
    if (open !== null) return;
    const cutoff = Date.now() - input.dedupWindowMs;
    await continueAsNew<typeof alertCaseIndex>({ ...input, seen: [...seen].filter(([, v]) => v.at >= cutoff) });
  };

  if (byActivity) {
    // The index does not hear when its case closes (it is not the case's parent): a join the case refuses opens a
    // new case, and at the end of a quiet window the index asks whether the case still runs. It stays while it does
    // (an alert after the window must join it, not open another), and asks again a window later.
    let askedAt = lastAlertAt;
    for (;;) {
      const quietSince = Math.max(lastAlertAt, askedAt);
      const suggested = await condition(
        () => workflowInfo().continueAsNewSuggested,
        Math.max(quietSince + input.dedupWindowMs - Date.now(), 1),
      );
      await condition(allHandlersFinished);
      if (suggested || workflowInfo().continueAsNewSuggested) {
        const cutoff = Date.now() - input.dedupWindowMs;
        const current: OpenCase | null = open;
        await continueAsNew<typeof alertCaseIndex>({
          ...input,
          seen: [...seen].filter(([, v]) => v.at >= cutoff),
          openCase: current ? { workflowId: current.workflowId, alerts: current.alerts } : undefined,
        });
      }
      if (Date.now() - Math.max(lastAlertAt, askedAt) < input.dedupWindowMs) continue;
      const current: OpenCase | null = open;
      if (current && (await caseIsRunning(current.workflowId))) {
        askedAt = Date.now();
        continue;
      }
      // Quiet for the whole window, its case closed: forget. The next alert starts a fresh index. (An alert that came
      // while the index asked is routed: wait for it, then count the window from it.)
      await condition(allHandlersFinished);
      if (Date.now() - lastAlertAt >= input.dedupWindowMs && open === current) return;
    }
  }

  if (inOneTask) {
    // One timer per quiet window, not one per alert: the loop wakes when the window since the last alert may have
    // passed, when the open case closes, or when history asks to continue as new.
    for (;;) {
      const quietFor = Date.now() - lastAlertAt;
      const woke = await condition(
        () => open === null && workflowInfo().continueAsNewSuggested,
        Math.max(input.dedupWindowMs - quietFor, 1),
      );
      if (open !== null) {
        if (!woke) await condition(() => open === null || Date.now() - lastAlertAt < input.dedupWindowMs);
        continue;
      }
      if (!woke && Date.now() - lastAlertAt >= input.dedupWindowMs) {
        // Quiet for the whole window with no case open: forget. The next alert starts a fresh index.
        await condition(allHandlersFinished);
        if (open === null && Date.now() - lastAlertAt >= input.dedupWindowMs) return;
        continue;
      }
      if (workflowInfo().continueAsNewSuggested) await continueAsNewWhenNoCaseIsOpen();
    }
  }

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
    if (workflowInfo().continueAsNewSuggested) await continueAsNewWhenNoCaseIsOpen();
  }
}
