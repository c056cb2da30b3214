/**
 * Alerts that join an open case. The case index signals each later alert for the same user and destination service
 * here; it is recorded with the stage the case was in. The decision is made once, on the opening alert: a joined
 * alert is evidence for the approver and the report, it does not re-run enrichment or the decision.
 */
import { log, setHandler } from '@temporalio/workflow';
import type { NormalizedAlert } from '../../src/contracts/alert';
import type { CaseAlert, RunState } from '../../src/contracts/playbook';
import { addEvidenceSignal } from '../messages';

export function caseAlertOf(alert: NormalizedAlert, role: CaseAlert['role'], state: Pick<RunState, 'stage'>): CaseAlert {
  return {
    role,
    source: alert.source,
    alertId: alert.alertId,
    eventTime: alert.eventTime,
    bytesOut: alert.bytesOut,
    destDomain: alert.destDomain,
    destUrl: alert.destUrl ?? null,
    host: alert.host,
    srcIp: alert.srcIp,
    severity: alert.severity,
    ruleName: alert.ruleName,
    recordedAt: new Date().toISOString(),
    stageOnArrival: state.stage,
    ...(role === 'joined' ? { raw: alert.raw } : {}),
  };
}

/** `onJoin`: called for each new joined alert, after it is recorded (re-binding runs supersede the pending request). */
export function registerEvidenceHandlers(state: RunState, onJoin?: (alert: NormalizedAlert) => void): void {
  setHandler(addEvidenceSignal, (alert: NormalizedAlert) => {
    // Signals are delivered at least once from the index's point of view; the same alert is recorded once.
    if (state.alerts.some((a) => a.source === alert.source && a.alertId === alert.alertId)) return;
    state.alerts.push(caseAlertOf(alert, 'joined', state));
    onJoin?.(alert);
    log.info('Alert joined the case', { source: alert.source, alertId: alert.alertId, stage: state.stage });
  });
}
