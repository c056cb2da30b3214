/**
 * The digest an approval request is bound to: SHA-256 over the canonical JSON of exactly what the approver is asked
 * to authorise (the proposed actions) and what they are shown as evidence (alert, findings, decision). Canonical
 * means object keys sorted at every depth, so the same content always gives the same digest.
 */
import { createHash } from 'node:crypto';
import type { DecisionRecord, Enrichment, ProposedAction } from '../contracts/playbook';
import type { NormalizedAlert } from '../contracts/alert';

export interface DigestInput {
  workflowId: string;
  requestId: string;
  expiresAt: string;
  proposedActions: ProposedAction[];
  alert: NormalizedAlert;
  enrichment: Partial<Enrichment>;
  decision: DecisionRecord;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** `sha256:<hex>`. */
export function approvalDigest(input: DigestInput): string {
  const canonical = canonicalJson({ v: 1, ...input });
  return `sha256:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}
