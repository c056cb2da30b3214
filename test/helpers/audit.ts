import { readFileSync } from 'node:fs';
import type { AuditEvent, AuditRecord } from '../../src/audit/audit-log';

/** The records of an audit file (JSON Lines), in file order; with `workflowId`, only that run's. */
export function auditRecords(file: string, workflowId?: string): AuditRecord[] {
  const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditRecord);
  return workflowId === undefined ? records : records.filter((r) => r.workflowId === workflowId);
}

/** A playbook audit event of run `run-1` of `workflowId`, keyed by its type (one of each type per run). */
export function playbookEvent(workflowId: string, type: AuditEvent['type']): AuditEvent {
  return {
    type,
    eventKey: `${workflowId}/run-1/${type}`,
    workflowId,
    runId: 'run-1',
    actor: 'playbook',
    at: '2026-12-01T10:00:00.000Z',
    data: {},
  };
}
