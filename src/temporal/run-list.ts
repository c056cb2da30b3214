/**
 * Listing cases through Temporal visibility (the custom search attributes), for the CLI, the case gauges of
 * `GET /metrics` and tests. A case is a run of the playbook workflow; the bookkeeping workflows that share the
 * namespace (case indexes, webhook receipts) are never listed or counted: every query here starts with
 * `CASES_QUERY`, the same filter as the UI's saved view (docs/operations/observability.md, "The case list").
 */
import type { Client } from '@temporalio/client';
import { SA } from '../contracts/search-attributes';
import type { CaseGauges } from '../metrics';
import { PLAYBOOK_WORKFLOW_TYPE } from '../contracts/workflow-ids';

export interface RunFilters {
  decision?: string | undefined;
  approval?: string | undefined;
  containment?: string | undefined;
  stage?: string | undefined;
  user?: string | undefined;
  host?: string | undefined;
  domain?: string | undefined;
  source?: string | undefined;
  severity?: string | undefined;
  /** `running` or `closed`. */
  status?: string | undefined;
}

const FILTER_ATTRIBUTE: Record<Exclude<keyof RunFilters, 'status'>, string> = {
  decision: SA.decision.name,
  approval: SA.approvalState.name,
  containment: SA.containmentState.name,
  stage: SA.playbookStage.name,
  user: SA.alertUser.name,
  host: SA.alertHost.name,
  domain: SA.destDomain.name,
  source: SA.alertSource.name,
  severity: SA.severity.name,
};

/** Cases only: the playbook's runs, not the case indexes or webhook receipts beside them. */
export const CASES_QUERY = `WorkflowType = "${PLAYBOOK_WORKFLOW_TYPE}"`;

/** Open cases that wait for a human decision. */
export const AWAITING_APPROVAL_QUERY = `${CASES_QUERY} AND ExecutionStatus = "Running" AND ${SA.approvalState.name} = "pending"`;

/** A user's own visibility query (`list --query`), kept to cases: whatever it says, bookkeeping workflows stay out. */
export function casesMatching(query: string): string {
  const trimmed = query.trim();
  if (!trimmed) throw new Error('--query is empty');
  if (/\border\s+by\b/i.test(trimmed)) throw new Error('--query may not contain ORDER BY (cases are listed newest first)');
  return `${CASES_QUERY} AND (${trimmed})`;
}

/** A visibility query string. Values are quoted; one that contains a quote or backslash is refused, not escaped. */
export function runListQuery(filters: RunFilters): string {
  const clauses = [CASES_QUERY];
  for (const [key, attribute] of Object.entries(FILTER_ATTRIBUTE)) {
    const value = filters[key as keyof RunFilters];
    if (value === undefined) continue;
    if (/["'\\]/.test(value)) throw new Error(`--${key} may not contain quotes or backslashes`);
    clauses.push(`${attribute} = "${key === 'domain' ? value.toLowerCase() : value}"`);
  }
  if (filters.status === 'running') clauses.push('ExecutionStatus = "Running"');
  else if (filters.status === 'closed') clauses.push('ExecutionStatus != "Running"');
  else if (filters.status !== undefined) throw new Error('--status is running or closed');
  return clauses.join(' AND ');
}

export interface RunListEntry {
  workflowId: string;
  status: string;
  startTime: string;
  decision: string | null;
  approval: string | null;
  containment: string | null;
  stage: string | null;
  user: string | null;
  host: string | null;
  destDomain: string | null;
  bytesOut: number | null;
}

export async function listRuns(client: Client, query: string, limit = 50): Promise<RunListEntry[]> {
  const out: RunListEntry[] = [];
  for await (const run of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
    const sa = run.typedSearchAttributes;
    out.push({
      workflowId: run.workflowId,
      status: run.status.name,
      startTime: run.startTime.toISOString(),
      decision: sa.get(SA.decision) ?? null,
      approval: sa.get(SA.approvalState) ?? null,
      containment: sa.get(SA.containmentState) ?? null,
      stage: sa.get(SA.playbookStage) ?? null,
      user: sa.get(SA.alertUser) ?? null,
      host: sa.get(SA.alertHost) ?? null,
      destDomain: sa.get(SA.destDomain) ?? null,
      bytesOut: sa.get(SA.bytesOut) ?? null,
    });
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * The case gauges of `GET /metrics`: how many open cases wait for approval, and for how long the oldest has (since
 * its start: the request goes out seconds later, once enrichment is done). Visibility lists newest first, so the
 * oldest is the last one listed; the waiting cases are few (each is a person's to-do), so reading them all is cheap.
 */
export async function readCaseGauges(client: Client, now: Date = new Date()): Promise<CaseGauges> {
  const { count } = await client.workflow.count(AWAITING_APPROVAL_QUERY);
  let oldest = now.getTime();
  if (count > 0) {
    for await (const run of client.workflow.list({ query: AWAITING_APPROVAL_QUERY, pageSize: 1000 })) {
      oldest = Math.min(oldest, run.startTime.getTime());
    }
  }
  return { awaitingApproval: count, oldestWaitSeconds: Math.max(0, (now.getTime() - oldest) / 1000) };
}

export function formatRunTable(runs: RunListEntry[]): string {
  const header = ['WORKFLOW ID', 'STATUS', 'STARTED', 'DECISION', 'APPROVAL', 'CONTAINMENT', 'STAGE', 'USER', 'HOST', 'DESTINATION'];
  const rows = runs.map((r) => [
    r.workflowId,
    r.status,
    r.startTime.slice(0, 19).replace('T', ' '),
    r.decision ?? '-',
    r.approval ?? '-',
    r.containment ?? '-',
    r.stage ?? '-',
    r.user ?? '-',
    r.host ?? '-',
    r.destDomain ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
