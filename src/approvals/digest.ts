/**
 * The digest an approval request is bound to: SHA-256 over the canonical JSON of exactly what the approver is asked
 * to authorise (the proposed actions) and what they are shown as evidence (alert, findings, decision). Canonical
 * means object keys sorted at every depth, so the same content always gives the same digest.
 */
import { createHash } from 'node:crypto';
import type { CaseVolume, DecisionRecord, Enrichment, ProposedAction } from '../contracts/playbook';
import type { NormalizedAlert } from '../contracts/alert';
import { canonicalJson } from '../canonical-json';

export interface DigestInput {
  workflowId: string;
  requestId: string;
  expiresAt: string;
  proposedActions: ProposedAction[];
  alert: NormalizedAlert;
  enrichment: Partial<Enrichment>;
  decision: DecisionRecord;
  /** The case's volume (rule version /2): when an alert joins the waiting case, the request is re-bound to the new total. */
  volume?: CaseVolume;
}

/** `sha256:<hex>`. */
export function approvalDigest(input: DigestInput): string {
  const canonical = canonicalJson({ v: 1, ...input });
  return `sha256:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}
