/**
 * The one-line case statement the Temporal UI shows for a run. Pure: used at start (the static summary, from the
 * alert alone) and inside the workflow (the current details, once the findings and the decision are known).
 *
 * Why two parts: a run's static summary is fixed when the run starts, before enrichment has found the user's time
 * zone or the decision exists. So the static summary states the facts of the alert (with the event time in UTC),
 * and the workflow's current details carry the full line the IR team reads ("jdoe uploaded 700.0 MiB to dropbox.com
 * from LAPTOP-JD01 at 02:14 local, escalated: off-hours, 341.0 sigma"), followed by the stage and approval state.
 */
import type { NormalizedAlert } from '../src/contracts/alert';
import type { CaseStartOptions, RunState } from '../src/contracts/playbook';
import { SA } from '../src/contracts/search-attributes';
import { workflowIdFor } from '../src/contracts/workflow-ids';
import { uploadsMemo } from './case-volume';
import { formatBytes } from './decide';

const OUTCOME_WORD = { escalate: 'escalated', review: 'for Tier 1 review', benign: 'benign' } as const;

function utcTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The static summary, set when the run starts. */
export function startSummary(alert: NormalizedAlert): string {
  return `${alert.user} uploaded ${formatBytes(alert.bytesOut)} to ${alert.destDomain} from ${alert.host} at ${utcTime(alert.eventTime)}`;
}

/** The static details: where the case came from. */
export function startDetails(alert: NormalizedAlert): string {
  return `T1567.002 exfiltration to cloud storage. Alert ${alert.alertId} from ${alert.source}, rule "${alert.ruleName}", severity ${alert.severity}.`;
}

/**
 * What a run of the playbook starts with, whichever path starts it: its workflow ID (named after the alert that
 * opened the case), the static summary and details, and the search attributes the IR team filters on. Also the
 * first stage and the uploads memo, which a run of the patch set then need not write in a visibility update of its
 * own (exfil-to-cloud-storage.ts).
 */
export function caseStartOptions(alert: NormalizedAlert): CaseStartOptions {
  return {
    workflowId: workflowIdFor(alert),
    staticSummary: startSummary(alert),
    staticDetails: startDetails(alert),
    memo: uploadsMemo([alert]),
    typedSearchAttributes: [
      { key: SA.playbookStage, value: 'enriching' },
      { key: SA.alertSource, value: alert.source },
      { key: SA.alertId, value: alert.alertId },
      { key: SA.alertUser, value: alert.user },
      { key: SA.alertHost, value: alert.host },
      { key: SA.destDomain, value: alert.destDomain.toLowerCase() },
      { key: SA.severity, value: alert.severity },
      { key: SA.bytesOut, value: alert.bytesOut },
    ],
  };
}

/** Short words for the rules that decided the case. */
function because(state: RunState): string[] {
  const decision = state.decision;
  if (!decision) return [];
  return decision.triggeredBy.map((rule) => {
    const evaluation = decision.rules.find((r) => r.rule === rule);
    const unknown = evaluation?.verdict === 'unknown' ? ' (unknown)' : '';
    switch (rule) {
      case 'off-hours-without-justification':
        return `off-hours${unknown}`;
      case 'volume-out-of-norm': {
        // Rule version /2: fired on the day so far only (pieces under the floor), say so with the day's figures.
        const day = evaluation?.inputs.dayBytes;
        if (evaluation?.inputs.firedOn === 'day' && typeof day === 'number') {
          const dz = evaluation.inputs.dayZScore;
          const dm = evaluation.inputs.dayMultipleOfMean;
          const measure =
            typeof dz === 'number' ? `${dz.toFixed(1)} sigma` : typeof dm === 'number' ? `${dm.toFixed(1)}x normal` : 'out of norm';
          return `day total ${formatBytes(day)}, ${measure}`;
        }
        const z = evaluation?.inputs.zScore;
        const multiple = evaluation?.inputs.multipleOfMean;
        if (typeof z === 'number') return `${z.toFixed(1)} sigma`;
        if (typeof multiple === 'number') return `${multiple.toFixed(1)}x normal volume`;
        return `volume out of norm${unknown}`;
      }
      case 'device-not-authorized':
        return `unauthorised device${unknown}`;
      case 'departing-employee':
        return `departing employee${unknown}`;
      default:
        return `${rule}${unknown}`;
    }
  });
}

/** The full case line, as far as the run knows it. */
export function caseLine(state: RunState): string {
  const { alert } = state;
  const hours = state.enrichment.businessHours;
  const local = hours?.status === 'ok' ? hours.value.localTime.match(/T(\d\d:\d\d)/)?.[1] : undefined;
  const when = local ? `${local} local` : utcTime(alert.eventTime);
  const head = `${alert.user} uploaded ${formatBytes(alert.bytesOut)} to ${alert.destDomain} from ${alert.host} at ${when}`;
  if (!state.decision) return head;
  const reasons = because(state);
  return `${head}, ${OUTCOME_WORD[state.decision.outcome]}${reasons.length ? `: ${reasons.join(', ')}` : ''}`;
}

/** The workflow's current details (Markdown in the UI): the case line, then where the run stands, in one line. */
export function currentDetails(state: RunState): string {
  const status = [`Stage: ${state.stage}`];
  const approval = state.approval;
  if (approval.status !== 'not-required') {
    status.push(
      `Approval: ${approval.status}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}` +
        (approval.status === 'pending' && approval.expiresAt ? ` until ${utcTime(approval.expiresAt)}` : ''),
    );
  }
  if (state.containment.length) status.push(`Containment: ${state.containment.map((c) => `${c.action} ${c.status}`).join(', ')}`);
  if (state.outcome) status.push(`Outcome: ${state.outcome}`);
  // A blank line: the UI renders the details as Markdown, which joins single line breaks.
  return `${caseLine(state)}\n\n${status.join(' · ')}`;
}
