import { readFileSync } from 'node:fs';
import type { AuditRecord } from '../../src/audit/audit-log';

/** The records of an audit file (JSON Lines), in file order; with `workflowId`, only that run's. */
export function auditRecords(file: string, workflowId?: string): AuditRecord[] {
  const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditRecord);
  return workflowId === undefined ? records : records.filter((r) => r.workflowId === workflowId);
}
