/**
 * The case's volume as the volume rule counts it: the day so far before the case (from the baseline finding) plus
 * the case's own uploads on that local day (shown in the run state and the approval request); and the memo in which a
 * case keeps its uploads for the other cases of the user.
 */
import { upsertMemo } from '@temporalio/workflow';
import type { CaseVolume, RunState } from '../src/contracts/playbook';
import type { RecordedUpload } from '../src/contracts/ports';
import { UPLOADS_MEMO } from '../src/contracts/search-attributes';

/** The uploads memo: only what the day total needs (no name, host or URL). Also set at start (case-summary.ts). */
export function uploadsMemo(alerts: readonly RecordedUpload[]): Record<string, RecordedUpload[]> {
  return {
    [UPLOADS_MEMO]: alerts.map((a) => ({ source: a.source, alertId: a.alertId, eventTime: a.eventTime, bytesOut: a.bytesOut })),
  };
}

/** Keeps the case's uploads in its memo, where other cases of the user read them. */
export function recordUploadsInMemo(state: Pick<RunState, 'alerts'>): void {
  upsertMemo(uploadsMemo(state.alerts));
}

export function caseVolumeOf(state: Pick<RunState, 'alerts' | 'enrichment'>): CaseVolume {
  const baseline = state.enrichment.baseline;
  const day = baseline?.status === 'ok' ? (baseline.value.day ?? null) : null;
  const inDay = day
    ? state.alerts.filter((a) => {
        const t = Date.parse(a.eventTime);
        return t >= Date.parse(day.start) && t < Date.parse(day.end);
      })
    : state.alerts;
  const caseBytes = inDay.reduce((sum, a) => sum + a.bytesOut, 0);
  return {
    day: day?.date ?? null,
    timezone: day?.timezone ?? null,
    priorBytes: day?.priorBytes ?? null,
    caseBytes,
    caseUploads: inDay.length,
    dayBytes: day ? day.priorBytes + caseBytes : null,
    updatedAt: new Date().toISOString(),
  };
}
