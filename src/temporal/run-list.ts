/** Listing playbook runs through Temporal visibility (the custom search attributes), for the CLI and tests. */
import type { Client } from '@temporalio/client';
import { SA } from '../contracts/search-attributes';
import { PLAYBOOK_WORKFLOW_TYPE } from './playbook-runs';

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

/** A visibility query string. Values are quoted; one that contains a quote or backslash is refused, not escaped. */
export function runListQuery(filters: RunFilters): string {
  const clauses = [`WorkflowType = "${PLAYBOOK_WORKFLOW_TYPE}"`];
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
