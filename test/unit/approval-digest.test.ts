/** The digest an approval request is bound to. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { approvalDigest, type DigestInput } from '../../src/approvals/digest';
import { canonicalJson } from '../../src/canonical-json';
import { escalatingAlert } from '../helpers/fixtures';

const input: DigestInput = {
  workflowId: 'wf-1',
  requestId: 'req-1',
  expiresAt: '2026-11-28T09:00:00.000Z',
  proposedActions: [
    { action: 'revoke-cloud-storage-access', target: 'jdoe', provider: 'dry-run' },
    { action: 'isolate-endpoint', target: 'LAPTOP-JD01', provider: 'dry-run' },
  ],
  alert: escalatingAlert({ alertId: 'A-1', raw: { a: 1 } }),
  enrichment: {},
  decision: {
    outcome: 'escalate',
    ruleVersion: 'r1',
    triggeredBy: ['volume-out-of-norm'],
    reasons: ['big'],
    rules: [],
    justification: null,
    questionsForAnalysis: { legitimateBusinessNeed: '', deviceAuthorized: '', volumeAtypical: '', recentPolicyChanges: '' },
  },
};

describe('approval digest', () => {
  test('canonical JSON sorts keys at every depth and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: undefined } }), '{"a":{"d":[2,{"x":0,"y":1}]},"b":1}');
  });

  test('is stable across key order and changes with any proposed action, target, provider or evidence', () => {
    const digest = approvalDigest(input);
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const reordered = Object.fromEntries(Object.entries(input).reverse()) as unknown as DigestInput;
    assert.equal(approvalDigest(reordered), digest);
    const variants: DigestInput[] = [
      { ...input, proposedActions: input.proposedActions.slice(0, 1) },
      { ...input, proposedActions: [{ ...input.proposedActions[0]!, target: 'someone-else' }, input.proposedActions[1]!] },
      { ...input, proposedActions: [input.proposedActions[0]!, { ...input.proposedActions[1]!, provider: 'crowdstrike' }] },
      { ...input, alert: { ...input.alert, bytesOut: input.alert.bytesOut + 1 } },
      { ...input, decision: { ...input.decision, reasons: ['other'] } },
      { ...input, requestId: 'req-2' },
      { ...input, expiresAt: '2026-11-28T10:00:00.000Z' },
    ];
    for (const v of variants) assert.notEqual(approvalDigest(v), digest);
  });
});
