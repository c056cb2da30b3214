/**
 * Pure, deterministic formatting shared by workflow code (decision explanations, case summaries, reports) and by the
 * notifiers that show the same values to people. No I/O and no clock: workflows may import it.
 */
import type { ApprovalState, DecisionRecord } from './contracts/playbook';

/** Bytes in binary units with one decimal: "512 B", "1.5 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * The destination as approvers must see it: the parsed, lowercased punycode (A-label) host that the decision's
 * domain rule recorded, so a homograph such as "drоpbox.com" shows as "xn--drpbox-xqf.com". Null when the domain
 * check had no answer.
 */
export function destinationHostShown(decision: DecisionRecord): string | null {
  const host = decision.rules.find((r) => r.rule === 'domain-not-approved')?.inputs.host;
  return typeof host === 'string' ? host : null;
}

const DECIDED: Record<string, string> = { approve: 'approval', deny: 'denial', 'false-positive': 'false-positive marking' };

/**
 * The answer to an approval decision: who decided, or, while a second approver is needed, what is pending, who made
 * the first decision and why a second is needed (never "pending by null at null").
 */
export function approvalAnswer(workflowId: string, approval: ApprovalState): string {
  if (approval.status !== 'pending') return `${workflowId}: ${approval.status} by ${approval.decidedBy} at ${approval.decidedAt}`;
  const first = approval.decisions[approval.decisions.length - 1];
  if (!first) return `${workflowId}: pending; no decision recorded yet`;
  const what =
    first.decision === 'approve' ? `approval of ${(first.actions ?? []).join(', ')}` : (DECIDED[first.decision] ?? first.decision);
  const why = approval.awaitingSecondBecause ?? 'endpoint isolation needs approvals from two different approvers';
  return `${workflowId}: pending: the ${what} by ${first.approverName} (via ${first.via}) at ${first.at} is recorded and waits for a second, different approver (${why})`;
}
