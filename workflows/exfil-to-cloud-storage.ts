/**
 * The T1567.002 playbook (Exfiltration Over Web Service: Exfiltration to Cloud Storage) as one durable workflow.
 * Steps mirror the seed: enrichment, the escalation decision, a human approval, containment, a report.
 * Deterministic code only: every side effect is an activity.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type {
  ApprovalDecisionInput,
  ApprovalState,
  ContainmentActionResult,
  ContainmentRequest,
  Enrichment,
  Finding,
  PlaybookInput,
  PlaybookStage,
  RunOutcome,
  RunState,
} from '../src/contracts/playbook';
import { SA } from '../src/contracts/search-attributes';
import { decide } from './decide';
import { decideApprovalUpdate, getStateQuery } from './messages';
import { buildReport } from './report';

type Activities = ReturnType<typeof createActivities>;

/** Enrichment reads: short, retried with backoff; a permanent failure becomes an `unknown` finding. */
const enrichmentActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/** Notifications and reports: must get through, so more patience. */
const notificationActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '30m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m' },
});

/** Containment: idempotent connectors, so retries are safe; bounded so a dead vendor ends in `failed`, not limbo. */
const containmentActivities = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
});

function failureReason(err: ActivityFailure): string {
  const cause = err.cause;
  return cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : err.message;
}

async function toFinding<T>(step: string, run: () => Promise<{ source: string; value: T }>): Promise<Finding<T>> {
  try {
    const { source, value } = await run();
    return { status: 'ok', source, value };
  } catch (err) {
    if (err instanceof ActivityFailure) {
      const reason = failureReason(err);
      log.warn('Enrichment step failed; recorded as unknown', { step, reason });
      return { status: 'unknown', source: step, reason };
    }
    throw err;
  }
}

const noApproval: ApprovalState = {
  status: 'not-required',
  requestId: null,
  requestedAt: null,
  expiresAt: null,
  notifiedVia: null,
  decidedBy: null,
  decidedAt: null,
  via: null,
  comment: null,
};

export async function exfilToCloudStorage(input: PlaybookInput): Promise<RunState> {
  const { alert, policy } = input;
  const { workflowId } = workflowInfo();
  const state: RunState = {
    workflowId,
    playbook: 'T1567.002',
    stage: 'enriching',
    status: 'running',
    outcome: null,
    alert,
    enrichment: {},
    decision: null,
    approval: { ...noApproval },
    containment: [],
    startedAt: new Date().toISOString(),
    closedAt: null,
    report: null,
  };

  setHandler(getStateQuery, () => state);
  setHandler(
    decideApprovalUpdate,
    (decision: ApprovalDecisionInput) => {
      state.approval = {
        ...state.approval,
        status: decision.decision === 'approve' ? 'approved' : 'denied',
        decidedBy: decision.approver,
        decidedAt: new Date().toISOString(),
        via: decision.via,
        comment: decision.comment ?? null,
      };
      return state.approval;
    },
    { validator: (decision: ApprovalDecisionInput) => validateApprovalDecision(input, state, decision) },
  );

  const setStage = (stage: PlaybookStage) => {
    state.stage = stage;
    setCurrentDetails(`Stage: ${stage}`);
    upsertSearchAttributes([{ key: SA.playbookStage, value: stage }]);
  };
  setStage('enriching');

  // 1. Enrichment. Everything but business hours runs in parallel; business hours needs the HR time zone.
  const hrPromise = toFinding('hr', () =>
    enrichmentActivities.lookupHrAuthorization.executeWithOptions({ summary: `HR: is ${alert.user} authorized to use cloud storage?` }, [
      { user: alert.user },
    ]),
  );
  const [domain, hr, policyChanges, device, baseline] = await Promise.all([
    toFinding('domain', () =>
      enrichmentActivities.checkDestinationDomain.executeWithOptions(
        { summary: `Is ${alert.destDomain} an approved cloud-storage domain?` },
        [{ destDomain: alert.destDomain, destUrl: alert.destUrl ?? null }],
      ),
    ),
    hrPromise,
    toFinding('policyChanges', () =>
      enrichmentActivities.findCloudStoragePolicyChanges.executeWithOptions(
        { summary: 'Recent cloud-storage policy changes, exceptions and pilots' },
        [{ user: alert.user, eventTime: alert.eventTime }],
      ),
    ),
    toFinding('device', () =>
      enrichmentActivities.checkDeviceAuthorization.executeWithOptions({ summary: `Is ${alert.host} authorized to use cloud storage?` }, [
        { host: alert.host },
      ]),
    ),
    toFinding('baseline', () =>
      enrichmentActivities.getUploadBaseline.executeWithOptions({ summary: `Normal upload volume of ${alert.user}` }, [
        { user: alert.user },
      ]),
    ),
  ]);
  const timezone = hr.status === 'ok' ? hr.value.timezone : null;
  const businessHours = await toFinding('businessHours', () =>
    enrichmentActivities.evaluateBusinessHours.executeWithOptions(
      { summary: `Business hours at ${alert.eventTime} in ${timezone ?? 'the organisation default time zone'}` },
      [{ eventTime: alert.eventTime, timezone }],
    ),
  );
  const enrichment: Enrichment = { domain, hr, policyChanges, device, baseline, businessHours };
  state.enrichment = enrichment;

  // 2. The escalation decision: pure and deterministic.
  setStage('deciding');
  const decision = decide(alert, enrichment, policy.decision);
  state.decision = decision;
  upsertSearchAttributes([{ key: SA.decision, value: decision.outcome }]);
  log.info('Escalation decision', { outcome: decision.outcome, reasons: decision.reasons });

  if (decision.outcome === 'escalate') {
    // 3. Approval: a request, then a wait for an authorised human, bounded by the approval window.
    setStage('awaiting-approval');
    const requestedAt = new Date();
    state.approval = {
      ...noApproval,
      status: 'pending',
      requestId: uuid4(),
      requestedAt: requestedAt.toISOString(),
      expiresAt: new Date(requestedAt.getTime() + policy.approval.timeoutMs).toISOString(),
    };
    upsertSearchAttributes([{ key: SA.approvalState, value: 'pending' }]);
    const notice = await notificationActivities.requestApproval.executeWithOptions(
      { summary: `Ask an approver to contain ${alert.user} / ${alert.host}` },
      [
        {
          workflowId,
          requestId: state.approval.requestId ?? '',
          alert,
          decision,
          expiresAt: state.approval.expiresAt ?? '',
          approvers: policy.approval.approvers,
        },
      ],
    );
    state.approval.notifiedVia = notice.via;

    const decided = await condition(() => state.approval.status !== 'pending', policy.approval.timeoutMs);
    if (!decided) {
      state.approval.status = 'expired';
      log.warn('Approval window expired; no containment (fail closed)');
    }
    upsertSearchAttributes([{ key: SA.approvalState, value: state.approval.status }]);

    if (state.approval.status === 'approved') {
      // 4. Containment: both actions run; one failing permanently does not stop the other.
      setStage('containing');
      const request: ContainmentRequest = {
        workflowId,
        alertId: alert.alertId,
        user: alert.user,
        host: alert.host,
        destDomain: alert.destDomain,
      };
      state.containment = await Promise.all([
        runContainment('revoke-cloud-storage-access', alert.user, () =>
          containmentActivities.revokeCloudStorageAccess.executeWithOptions({ summary: `Revoke cloud-storage access of ${alert.user}` }, [
            request,
          ]),
        ),
        runContainment('isolate-endpoint', alert.host, () =>
          containmentActivities.isolateEndpoint.executeWithOptions({ summary: `Isolate endpoint ${alert.host}` }, [request]),
        ),
      ]);
      upsertSearchAttributes([{ key: SA.containmentState, value: containmentState(state.containment) }]);
    }
  }

  // 5. The report.
  setStage('reporting');
  state.outcome = outcomeOf(state);
  state.report = buildReport(state);
  await notificationActivities.publishReport.executeWithOptions({ summary: 'Publish the case report' }, [state]);
  state.status = 'closed';
  state.closedAt = new Date().toISOString();
  setStage('closed');
  return state;
}

async function runContainment(
  action: ContainmentActionResult['action'],
  target: string,
  run: () => Promise<ContainmentActionResult>,
): Promise<ContainmentActionResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ActivityFailure) {
      return { action, target, provider: 'unknown', status: 'failed', detail: failureReason(err), at: new Date().toISOString() };
    }
    throw err;
  }
}

function containmentState(results: ContainmentActionResult[]): string {
  if (results.every((r) => r.status === 'simulated')) return 'simulated';
  if (results.every((r) => r.status === 'done' || r.status === 'simulated')) return 'contained';
  if (results.some((r) => r.status === 'done' || r.status === 'simulated')) return 'partial';
  return 'failed';
}

function outcomeOf(state: RunState): RunOutcome {
  const decision = state.decision?.outcome;
  if (decision === 'benign') return 'benign';
  if (decision === 'review') return 'review';
  switch (state.approval.status) {
    case 'denied':
      return 'denied';
    case 'expired':
      return 'approval-expired';
    default: {
      const results = state.containment;
      const succeeded = results.filter((r) => r.status === 'done' || r.status === 'simulated');
      if (succeeded.length === 0) return 'containment-failed';
      if (succeeded.length < results.length) return 'partially-contained';
      return results.some((r) => r.status === 'simulated') ? 'containment-simulated' : 'contained';
    }
  }
}

/** Throws (rejecting the Update without writing history) unless this decision may be accepted now. */
function validateApprovalDecision(input: PlaybookInput, state: RunState, decision: ApprovalDecisionInput): void {
  if (state.approval.status !== 'pending') {
    throw new Error(`No approval is pending on this run (approval is ${state.approval.status}).`);
  }
  if (decision.requestId !== state.approval.requestId) {
    throw new Error('This approval request is not the current one; it authorises nothing.');
  }
  if (decision.decision !== 'approve' && decision.decision !== 'deny') {
    throw new Error(`Unknown decision "${String(decision.decision)}".`);
  }
  const approver = decision.approver.toLowerCase();
  if (!input.policy.approval.approvers.some((a) => a.id.toLowerCase() === approver)) {
    throw new Error(`${decision.approver} is not an authorised approver.`);
  }
  if (approver === input.alert.user.toLowerCase()) {
    throw new Error(`${decision.approver} is the subject of this alert and may not decide on it.`);
  }
  const hr = state.enrichment.hr;
  if (hr?.status === 'ok' && hr.value.manager !== null && hr.value.manager.toLowerCase() === approver) {
    throw new Error(`${decision.approver} is the manager of the alert's subject and may not decide on it.`);
  }
}
