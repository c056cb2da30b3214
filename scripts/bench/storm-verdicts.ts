/**
 * The storm's verdicts from what the senders were answered and what Temporal holds: a pure function, so its
 * definitions (in scripts/bench.ts) are tested without a server.
 */
import type { GenericAlertBody } from './data';
import type { Answer, Delivery } from './send';

export type StormKind = 'new' | 'join' | 'duplicate';

export interface StormItem {
  kind: StormKind;
  body: GenericAlertBody;
}

const is2xx = (a: Answer) => a.status >= 200 && a.status < 300;

/** Every count the storm reports; the definitions are in the header of scripts/bench.ts. */
export interface StormVerdicts {
  distinctAlerts: number;
  resends: number;
  acknowledged: number;
  lost: number;
  recordedTwice: number;
  ackedOnlyAsDuplicate: number;
  runs: number;
  cases: number;
  runsNoAnswerNames: number;
  casesWithoutRun: number;
  duplicateRuns: number;
  joinsJoined: number;
  joinsOpened: number;
  answers503: number;
  answers503Max: number;
  answers503WithoutRetryAfter: number;
  otherFailures: number;
  /** The other failures by status, or by error name when no answer came (e.g. TimeoutError). */
  otherByKind: Record<string, number>;
  attempts: number;
}

export function judgeStorm(
  items: StormItem[],
  deliveries: Delivery[],
  runs: { workflowId: string; alertId: string | null }[],
): StormVerdicts {
  const answersByAlert = new Map<string, Answer[]>();
  for (const [i, d] of deliveries.entries()) {
    const id = (items[i] as StormItem).body.alertId;
    answersByAlert.set(id, [...(answersByAlert.get(id) ?? []), ...d.attempts]);
  }
  const distinct = new Set(items.filter((i) => i.kind !== 'duplicate').map((i) => i.body.alertId));
  let acknowledged = 0;
  let lost = 0;
  let recordedTwice = 0;
  let ackedOnlyAsDuplicate = 0;
  /** The run each alert's recording answer named (202, not a duplicate). */
  const recordedIn = new Map<string, string>();
  const cases = new Set<string>();
  for (const id of distinct) {
    const ok = (answersByAlert.get(id) ?? []).filter(is2xx);
    for (const a of ok) if (a.body?.workflowId) cases.add(a.body.workflowId);
    const recordings = ok.filter((a) => a.body && !a.body.duplicate);
    if (ok.length === 0) lost++;
    else acknowledged++;
    if (recordings.length > 1) recordedTwice++;
    if (ok.length > 0 && recordings.length === 0) ackedOnlyAsDuplicate++;
    const first = recordings[0] ?? ok[0];
    if (first?.body?.workflowId) recordedIn.set(id, first.body.workflowId);
  }
  const runIds = new Set(runs.map((r) => r.workflowId));
  const byOpener = new Map<string, string[]>();
  for (const r of runs) if (r.alertId) byOpener.set(r.alertId, [...(byOpener.get(r.alertId) ?? []), r.workflowId]);
  let duplicateRuns = 0;
  for (const [alertId, opened] of byOpener) {
    // The legitimate run of an alert is the one its answer named; every other run it opened is a duplicate.
    const named = recordedIn.get(alertId);
    duplicateRuns +=
      named !== undefined && opened.includes(named) ? opened.length - 1 : named !== undefined ? opened.length : opened.length - 1;
  }
  const joins = items.filter((i) => i.kind === 'join');
  const joinAnswer = (i: StormItem) => (answersByAlert.get(i.body.alertId) ?? []).find((a) => is2xx(a) && a.body && !a.body.duplicate);
  const all = deliveries.flatMap((d) => d.attempts);
  const unavailable = all.filter((a) => a.status === 503);
  return {
    distinctAlerts: distinct.size,
    resends: items.length - distinct.size,
    acknowledged,
    lost,
    recordedTwice,
    ackedOnlyAsDuplicate,
    runs: runs.length,
    cases: cases.size,
    runsNoAnswerNames: runs.filter((r) => !cases.has(r.workflowId)).length,
    casesWithoutRun: [...cases].filter((c) => !runIds.has(c)).length,
    duplicateRuns,
    joinsJoined: joins.filter((i) => joinAnswer(i)?.body?.joined === true).length,
    joinsOpened: joins.filter((i) => joinAnswer(i)?.body?.joined === false).length,
    answers503: unavailable.length,
    answers503Max: Math.max(0, ...unavailable.map((a) => a.ms)),
    answers503WithoutRetryAfter: unavailable.filter((a) => a.retryAfter === null).length,
    otherFailures: all.filter((a) => !is2xx(a) && a.status !== 503).length,
    otherByKind: all
      .filter((a) => !is2xx(a) && a.status !== 503)
      .reduce<Record<string, number>>((acc, a) => {
        const kind = a.status === 0 ? (a.error ?? 'no answer') : String(a.status);
        acc[kind] = (acc[kind] ?? 0) + 1;
        return acc;
      }, {}),
    attempts: all.length,
  };
}
