/**
 * Step 2: the escalation decision. Pure and deterministic (decide.ts); this step records it where people look: the
 * run's search attributes, the UI's current details, the log and the audit trail.
 */
import { log, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { DecisionRecord, Enrichment, PlaybookInput, RunState } from '../../src/contracts/playbook';
import { SA } from '../../src/contracts/search-attributes';
import { currentDetails } from '../case-summary';
import { caseVolumeOf } from '../case-volume';
import { decide } from '../decide';
import type { AuditEvent } from '../../src/audit/audit-log';
import { audit, auditEvent } from './audit';

/**
 * `dayTotals` (patch `volume-day-total`): the volume rule counts the day so far, with the case's alerts recorded by
 * now (those that joined while it was enriching are counted before the decision).
 *
 * `recordAlongside` (runs of the patch set, workflows/patches.ts): a benign decision does not wait for its audit
 * record here; `recorded` is awaited with the report (steps/closing.ts), and the run's next audit record follows it
 * in the chain. `recordAlongside: 'with-report'` (runs of the second set): a benign decision's record is not written
 * here at all but handed back in `pending`, for the close's one activity to write before the report. Any other
 * decision is recorded before the run goes on, as before.
 */
export async function decideAndRecord(
  input: PlaybookInput,
  state: RunState,
  enrichment: Enrichment,
  dayTotals = false,
  recordAlongside: boolean | 'with-report' = false,
): Promise<{ decision: DecisionRecord; recorded: Promise<void>; pending: AuditEvent[] }> {
  const decision = dayTotals
    ? decide(input.alert, enrichment, input.policy.decision, state.alerts)
    : decide(input.alert, enrichment, input.policy.decision);
  state.decision = decision;
  if (dayTotals) state.volume = caseVolumeOf(state);
  upsertSearchAttributes([{ key: SA.decision, value: decision.outcome }]);
  log.info('Escalation decision', { outcome: decision.outcome, reasons: decision.reasons });
  setCurrentDetails(currentDetails(state));
  const data = {
    outcome: decision.outcome,
    ruleVersion: decision.ruleVersion,
    triggeredBy: decision.triggeredBy,
    reasons: decision.reasons,
  };
  if (recordAlongside === 'with-report' && decision.outcome === 'benign') {
    // Stamped now (the decision's time), written by the close's activity before the report.
    return { decision, recorded: Promise.resolve(), pending: [auditEvent('decision', 'playbook', data)] };
  }
  const recorded = audit('decision', 'playbook', data, `decision ${decision.outcome}`);
  if (!(recordAlongside && decision.outcome === 'benign')) await recorded;
  return { decision, recorded, pending: [] };
}
