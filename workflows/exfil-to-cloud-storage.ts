/**
 * The T1567.002 playbook (Exfiltration Over Web Service: Exfiltration to Cloud Storage) as one durable workflow.
 * Steps mirror the seed: enrichment, the escalation decision, a human approval, containment, a report. Each step
 * lives in workflows/steps/ and writes its own audit record; this file only orders them and keeps the run state.
 * Deterministic code only.
 */
import { condition, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { inPatchSet, inPatchSet2, inPatchSet3, patchedInSet } from './patches';
import type { PlaybookInput, PlaybookStage, RunOutcome, RunState } from '../src/contracts/playbook';
import { SA, UPLOADS_MEMO } from '../src/contracts/search-attributes';
import { currentDetails } from './case-summary';
import { getStateQuery } from './messages';
import { recordUploadsInMemo } from './case-volume';
import { buildReport } from './report';
import { notificationActivities } from './steps/activities';
import {
  NO_APPROVAL,
  publishApprovalProgress,
  registerApprovalHandlers,
  requestAndAwaitApproval,
  supersedeForJoin,
} from './steps/approval';
import { reportAndClose } from './steps/closing';
import { contain, containmentState } from './steps/containment';
import { decideAndRecord } from './steps/decision';
import { enrich } from './steps/enrichment';
import { caseAlertOf, registerEvidenceHandlers } from './steps/evidence';
import { holdForRelease, NO_LEASE, NO_RELEASE, registerReleaseHandlers } from './steps/release';

/** The patch under which the volume rule counts the day so far (rule version /2) and joins re-bind the approval. */
export const DAY_TOTALS_PATCH = 'volume-day-total';
/** The patch under which the pure enrichment steps run as local activities and passing stages are not upserted. */
export const CHEAPER_RUNS_PATCH = 'cheaper-runs';

export async function exfilToCloudStorage(input: PlaybookInput): Promise<RunState> {
  const { alert } = input;
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
  // Since rule version /2 the volume rule counts the user's day so far (local days): the baseline waits for HR's time
  // zone, the alerts that joined before the decision count, and one that joins a waiting approval re-binds it to the
  // new total. Runs started before it keep the single-upload rule.
  // The run's first patch question: it also decides whether the run took the patch set (workflows/patches.ts).
  const dayTotals = patchedInSet(DAY_TOTALS_PATCH);
  registerEvidenceHandlers(
    state,
    dayTotals
      ? (joined) => {
          recordUploadsInMemo(state);
          supersedeForJoin(state, joined);
        }
      : undefined,
  );
  // Runs of the patch set started with the first stage and the uploads memo (case-summary.ts caseStartOptions, every
  // path that opens a case) do not write them again: two visibility updates fewer. What the start carried is in the
  // start event, so replay sees the same.
  const { memo, typedSearchAttributes } = workflowInfo();
  const fromStart = inPatchSet()
    ? { uploads: memo !== undefined && UPLOADS_MEMO in memo, enriching: typedSearchAttributes.get(SA.playbookStage) === 'enriching' }
    : { uploads: false, enriching: false };
  if (dayTotals && !fromStart.uploads) recordUploadsInMemo(state);

  // Runs with patch `cheaper-runs` (one patch for both changes: each patch ID costs a marker and a search-attribute
  // upsert of its own) run the pure enrichment steps as local activities (steps/enrichment.ts), and do not write the
  // PlaybookStage search attribute for the two passing stages (deciding: the Decision attribute is written in the
  // same task; reporting: closed follows the report). The state, the query and the UI's current details still show
  // every stage.
  const cheaper = patchedInSet(CHEAPER_RUNS_PATCH);
  const passing = (stage: PlaybookStage) => cheaper && (stage === 'deciding' || stage === 'reporting');
  const written = (stage: PlaybookStage) => stage === 'enriching' && fromStart.enriching;
  const setStage = (stage: PlaybookStage) => {
    state.stage = stage;
    setCurrentDetails(currentDetails(state));
    if (!passing(stage) && !written(stage)) upsertSearchAttributes([{ key: SA.playbookStage, value: stage }]);
  };

  // 1. Enrichment.
  setStage('enriching');
  // Runs of the third patch set: each vendor-backed lookup where the run's policy places it (a file source's lookup
  // as a local activity). The set was decided in the first task (patchedInSet above), so this asks no new patch.
  const lookups = inPatchSet3() ? input.policy.lookups : undefined;
  const enrichment = await enrich(alert, { dayTotals, local: cheaper, lookups });
  state.enrichment = enrichment;

  // 2. The escalation decision: pure and deterministic.
  setStage('deciding');
  // Runs of the patch set: a benign decision's audit record is written while the report is published (one workflow
  // task fewer); the close's record still follows it in the run's chain.
  // Runs of the second set: that record is written by the close, in the report's activity (steps/closing.ts).
  const { decision, recorded, pending } = await decideAndRecord(
    input,
    state,
    enrichment,
    dayTotals,
    inPatchSet2() ? 'with-report' : inPatchSet(),
  );

  if (decision.outcome === 'escalate') {
    // 3. Approval.
    setStage('awaiting-approval');
    // The UI's current details show the pending request (and its expiry) as soon as it exists.
    void condition(() => state.approval.status === 'pending').then(() => setCurrentDetails(currentDetails(state)));
    const { told } = await requestAndAwaitApproval(input, state, decision, { rebindOnJoin: dayTotals });

    // 4. Containment, only after an authorised human approved.
    if (state.approval.status === 'approved') {
      setStage('containing');
      await contain(input, state, state.approval.approvedActions ?? []);
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
    } else {
      await told;
    }
  }

  // 5. The report.
  setStage('reporting');
  state.outcome = outcomeOf(state);
  await reportAndClose(state, recorded, pending);
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
