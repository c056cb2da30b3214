/**
 * The T1567.002 playbook (Exfiltration Over Web Service: Exfiltration to Cloud Storage) as one durable workflow.
 * Steps mirror the seed: enrichment, the escalation decision, a human approval, containment, a report. Each step
 * lives in workflows/steps/; this file only orders them and keeps the run state. Deterministic code only.
 */
import { condition, log, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { PlaybookInput, PlaybookStage, RunOutcome, RunState } from '../src/contracts/playbook';
import { SA } from '../src/contracts/search-attributes';
import { currentDetails } from './case-summary';
import { decide } from './decide';
import { getStateQuery } from './messages';
import { buildReport } from './report';
import { notificationActivities } from './steps/activities';
import { audit } from './steps/audit';
import { NO_APPROVAL, publishApprovalProgress, registerApprovalHandlers, requestAndAwaitApproval } from './steps/approval';
import { contain, containmentState } from './steps/containment';
import { holdForRelease, NO_LEASE, NO_RELEASE, registerReleaseHandlers } from './steps/release';
import { enrich } from './steps/enrichment';
import { caseAlertOf, registerEvidenceHandlers } from './steps/evidence';

export async function exfilToCloudStorage(input: PlaybookInput): Promise<RunState> {
  const { alert, policy } = input;
  const state: RunState = {
    workflowId: workflowInfo().workflowId,
    playbook: 'T1567.002',
    stage: 'enriching',
    status: 'running',
    outcome: null,
    alert,
    alerts: [],
    enrichment: {},
    decision: null,
    approval: { ...NO_APPROVAL, decisions: [] },
    containment: [],
    escalations: [],
    release: { ...NO_RELEASE },
    lease: { ...NO_LEASE },
    startedAt: new Date().toISOString(),
    closedAt: null,
    report: null,
  };
  state.alerts.push(caseAlertOf(alert, 'opened', state));
  setHandler(getStateQuery, () => state);
  registerApprovalHandlers(input, state);
  registerReleaseHandlers(input, state);
  registerEvidenceHandlers(state);

  const setStage = (stage: PlaybookStage) => {
    state.stage = stage;
    setCurrentDetails(currentDetails(state));
    upsertSearchAttributes([{ key: SA.playbookStage, value: stage }]);
  };

  // 1. Enrichment.
  setStage('enriching');
  const enrichment = await enrich(alert);
  state.enrichment = enrichment;

  // 2. The escalation decision: pure and deterministic.
  setStage('deciding');
  const decision = decide(alert, enrichment, policy.decision);
  state.decision = decision;
  upsertSearchAttributes([{ key: SA.decision, value: decision.outcome }]);
  log.info('Escalation decision', { outcome: decision.outcome, reasons: decision.reasons });
  setCurrentDetails(currentDetails(state));
  await audit(
    'decision',
    'playbook',
    { outcome: decision.outcome, ruleVersion: decision.ruleVersion, triggeredBy: decision.triggeredBy, reasons: decision.reasons },
    `decision ${decision.outcome}`,
  );

  if (decision.outcome === 'escalate') {
    // 3. Approval.
    setStage('awaiting-approval');
    // The UI's current details show the pending request (and its expiry) as soon as it exists.
    void condition(() => state.approval.status === 'pending').then(() => setCurrentDetails(currentDetails(state)));
    await requestAndAwaitApproval(input, state, decision);
    // Started, not awaited: telling the approvers never delays containment.
    const told = publishApprovalProgress(input, state, state.approval.status === 'expired' ? 'expired' : 'decided');
    const approval = state.approval;
    await audit(
      'approval',
      approval.decidedBy ?? 'playbook',
      {
        status: approval.status,
        requestId: approval.requestId,
        requestedAt: approval.requestedAt,
        decidedAt: approval.decidedAt ?? (approval.status === 'expired' ? approval.expiresAt : null),
        via: approval.via,
        comment: approval.comment,
        approvedActions: approval.approvedActions,
        digest: approval.digest,
        decisions: approval.decisions,
      },
      `approval ${approval.status}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}`,
    );
    setCurrentDetails(currentDetails(state));

    // 4. Containment, only after an authorised human approved.
    if (state.approval.status === 'approved') {
      setStage('containing');
      await contain(input, state, state.approval.approvedActions ?? []);
      for (const result of state.containment) {
        await audit(
          'containment',
          'playbook',
          { ...result, approvedBy: state.approval.decidedBy },
          `${result.action} on ${result.target}: ${result.status}`,
          `containment/${result.action}`,
        );
      }
      await told;
      const contained = ['contained', 'simulated'].includes(containmentState(state.containment));
      await publishApprovalProgress(input, state, contained ? 'contained' : 'containment-failed');
      state.outcome = outcomeOf(state);
      // Hold for release (if configured): the report so far is published, and the run stays open for the undo.
      await holdForRelease(input, state, {
        onHold: async () => {
          setStage('contained');
          state.report = buildReport(state);
          await notificationActivities.publishReport.executeWithOptions({ summary: 'Publish the case report (contained)' }, [state]);
        },
        onRelease: () => setStage('releasing'),
      });
      for (const result of state.release.results) {
        await audit(
          'release',
          state.release.requestedBy ?? 'playbook',
          { ...result, releaseStatus: state.release.status, comment: state.release.comment },
          `release ${result.action} on ${result.target}: ${result.status}`,
          `release/${result.action}`,
        );
      }
    } else {
      await told;
    }
  }

  // 5. The report.
  setStage('reporting');
  state.outcome = outcomeOf(state);
  state.report = buildReport(state);
  await notificationActivities.publishReport.executeWithOptions({ summary: 'Publish the case report' }, [state]);
  await audit(
    'run-closed',
    'playbook',
    { outcome: state.outcome, summary: state.report.summary, remainingT2Actions: state.report.remainingT2Actions },
    `run closed: ${state.outcome}`,
  );
  state.status = 'closed';
  state.closedAt = new Date().toISOString();
  setStage('closed');
  return state;
}

function outcomeOf(state: RunState): RunOutcome {
  const decision = state.decision?.outcome;
  if (decision === 'benign') return 'benign';
  if (decision === 'review') return 'review';
  switch (state.approval.status) {
    case 'denied':
      return 'denied';
    case 'false-positive':
      return 'false-positive';
    case 'expired':
      return 'approval-expired';
    default: {
      const results = state.containment;
      if (results.length > 0 && results.every((r) => r.status === 'refused')) return 'containment-refused';
      const succeeded = results.filter((r) => r.status === 'done' || r.status === 'simulated');
      if (succeeded.length === 0) return 'containment-failed';
      if (succeeded.length < results.length) return 'partially-contained';
      return results.some((r) => r.status === 'simulated') ? 'containment-simulated' : 'contained';
    }
  }
}
