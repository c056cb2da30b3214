/**
 * End to end on a real Temporal dev server: a SIEM posts an alert over HTTP, the run shows its decision at
 * GET /runs/:id, an approver decides with the real CLI in a separate process, and containment is recorded.
 * Nothing of the project's own is mocked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DryRunContainment } from '../../src/connectors/dry-run/client';
import { startE2e, type E2e } from '../helpers/e2e';
import { unique } from '../helpers/fixtures';
import { eventually } from '../helpers/temporal';

describe('generic webhook to containment, end to end', () => {
  let e2e: E2e;

  before(async () => {
    e2e = await startE2e({ name: 'e2e' });
  });

  after(async () => {
    await e2e?.stop();
  });

  test('POST alert, GET the decision, approve with the CLI, containment recorded', async () => {
    const alert = {
      alertId: unique('e2e'),
      user: 'jdoe',
      host: 'LAPTOP-JD01',
      srcIp: '10.20.30.40',
      destDomain: 'dropbox.com',
      bytesOut: 734003200,
      eventTime: new Date(Date.now() - 3600_000).toISOString(),
      severity: 'high',
      ruleName: 'Large upload to cloud storage',
    };
    const post = () => e2e.post('/webhooks/siem/generic', alert);

    const first = await post();
    assert.equal(first.status, 202);
    const { workflowId, duplicate } = (await first.json()) as { workflowId: string; duplicate: boolean };
    assert.equal(duplicate, false);
    assert.equal(workflowId, `t1567-002-generic-${alert.alertId}`);

    const again = await post();
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { workflowId, duplicate: true });

    const waiting = await eventually(
      async () => {
        const run = await e2e.run(workflowId);
        return run.stage === 'awaiting-approval' ? run : null;
      },
      30_000,
      'the run to await approval',
    );
    assert.equal(waiting.decision?.outcome, 'escalate');
    assert.ok(waiting.decision?.triggeredBy.includes('volume-out-of-norm'));
    assert.equal(waiting.approval.status, 'pending');
    assert.equal(waiting.alert.bytesOut, 734003200);

    // The subject cannot approve their own containment, even through the CLI.
    await assert.rejects(e2e.cli('approve', workflowId, '--as', 'jdoe'), (err: Error & { code?: number; stderr?: string }) => {
      assert.equal(err.code, 3);
      assert.match(err.stderr ?? '', /Rejected: jdoe is the subject of this alert and may not decide on it\./);
      return true;
    });

    const approved = await e2e.cli('approve', workflowId, '--as', 'alice', '--comment', 'confirmed exfil');
    assert.match(approved.stdout, new RegExp(`${workflowId}: approved by alice at `));

    const closed = await eventually(
      async () => {
        const run = await e2e.run(workflowId);
        return run.status === 'closed' ? run : null;
      },
      30_000,
      'the run to close',
    );
    assert.equal(closed.outcome, 'containment-simulated');
    assert.equal(closed.approval.decidedBy, 'alice');
    assert.equal(closed.approval.via, 'cli');
    assert.deepEqual(
      closed.containment.map((c) => [c.action, c.status]),
      [
        ['revoke-cloud-storage-access', 'simulated'],
        ['isolate-endpoint', 'simulated'],
      ],
    );
    const ledger = await new DryRunContainment(e2e.config.dataDir).entries();
    assert.deepEqual(ledger.map((e) => e.key).sort(), [`${workflowId}:isolate-endpoint`, `${workflowId}:revoke-cloud-storage-access`]);

    const shown = await e2e.cli('show', workflowId);
    assert.match(shown.stdout, /## Containment\n- revoke-cloud-storage-access on jdoe via dry-run: \*\*simulated\*\*/);

    // The case index started the run with its first stage and its uploads memo, so the run (patch set) wrote neither
    // again: no memo update and no PlaybookStage "enriching" upsert (visibility writes a storm pays per case).
    const events = (await e2e.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    assert.ok(started?.memo?.fields?.uploads, 'the start carries the uploads memo');
    assert.ok(started?.searchAttributes?.indexedFields?.PlaybookStage, 'the start carries the first stage');
    assert.equal(events.filter((e) => e.workflowPropertiesModifiedEventAttributes).length, 0, 'no memo update (no alert joined this case)');
    const stagesUpserted = events.flatMap((e) => {
      const field = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.PlaybookStage;
      return field?.data ? [JSON.parse(Buffer.from(field.data).toString()) as string] : [];
    });
    assert.equal(stagesUpserted.includes('enriching'), false, `stages upserted: ${stagesUpserted.join(', ')}`);
    assert.ok(stagesUpserted.includes('awaiting-approval'), 'later stages are still written');
  });

  test('GET /runs for an unknown ID is a 404, and /healthz is a 200', async () => {
    const res = await e2e.get('/runs/no-such-run');
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'No playbook run with workflow ID no-such-run', details: [] });
    assert.equal((await e2e.get('/healthz')).status, 200);
  });
});
