/**
 * Standard Webhooks idempotency against a real dev server and worker: the `webhook-id` is the sender's idempotency
 * key, so an ID already acknowledged for a source is a replay whatever its body, in this process and after a restart
 * (a second app with nothing in memory), and concurrent deliveries of one ID record one alert.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { receiptWorkflowId } from '../../src/temporal/webhook-receipts';
import { webhookReceipt } from '../../workflows';
import { startE2e, type E2e } from '../helpers/e2e';

const WHSEC = `whsec_${randomBytes(32).toString('base64')}`;

/** A benign generic alert (small upload): its run closes quickly. */
const alert = (alertId: string, user: string) => ({
  alertId,
  user,
  host: 'LAPTOP-JD01',
  srcIp: '10.1.2.3',
  destDomain: 'dropbox.com',
  bytesOut: 1024,
  eventTime: new Date(Date.now() - 60_000).toISOString(),
  severity: 'low',
  ruleName: 'Upload to cloud storage',
});

const newId = () => `msg_${randomBytes(8).toString('hex')}`;

function signedHeaders(id: string, text: string): Record<string, string> {
  const now = new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(WHSEC).sign(id, now, text),
  };
}

describe('Standard Webhooks: a reused webhook-id is a duplicate', { timeout: 300_000 }, () => {
  let e2e: E2e;

  before(async () => {
    e2e = await startE2e({
      name: 'webhook-id',
      configure: (raw) => ({
        ...raw,
        ingest: { ...(raw.ingest as object), sources: { generic: { auth: { type: 'standard-webhooks', secrets: [WHSEC] } } } },
      }),
    });
  });
  after(async () => {
    await e2e?.stop();
  });

  const send = async (id: string, body: object) => {
    const text = JSON.stringify(body);
    const res = await e2e.post('/webhooks/siem/generic', text, signedHeaders(id, text));
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const exists = async (workflowId: string) => {
    try {
      await e2e.client.workflow.getHandle(workflowId).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  };

  test('the same webhook-id with a different body is answered as a duplicate and starts nothing', async () => {
    const id = newId();
    const first = await send(id, alert('WH-1', 'wh-one'));
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal(first.body.workflowId, 't1567-002-generic-WH-1');

    const replay = await send(id, alert('WH-2', 'wh-two'));
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, { duplicate: true, webhookId: id, workflowId: 't1567-002-generic-WH-1' });
    assert.equal(await exists('t1567-002-generic-WH-2'), false, 'no run for the replayed body');

    // The receipt is in Temporal, open for the signature window.
    const receipt = await e2e.client.workflow.getHandle(receiptWorkflowId('generic', id)).describe();
    assert.equal(receipt.status.name, 'RUNNING');
  });

  test('the same webhook-id with the same body is answered by the case index, as any retry is', async () => {
    const id = newId();
    const body = alert('WH-3', 'wh-three');
    assert.equal((await send(id, body)).status, 202);
    const retry = await send(id, body);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, { workflowId: 't1567-002-generic-WH-3', duplicate: true });
  });

  test('after a restart (a new app, nothing in memory) the receipt in Temporal still answers the replay', async () => {
    const id = newId();
    assert.equal((await send(id, alert('WH-4', 'wh-four'))).status, 202);

    const restarted = buildApp({ config: e2e.config, client: e2e.client, logger: createLogger({ level: 'silent' }) });
    try {
      const text = JSON.stringify(alert('WH-5', 'wh-five'));
      const res = await restarted.inject({
        method: 'POST',
        url: '/webhooks/siem/generic',
        headers: signedHeaders(id, text),
        payload: text,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { duplicate: true, webhookId: id, workflowId: 't1567-002-generic-WH-4' });
    } finally {
      await restarted.close();
    }
    assert.equal(await exists('t1567-002-generic-WH-5'), false);
  });

  test('concurrent deliveries of one webhook-id with different bodies record one alert', async () => {
    const id = newId();
    const answers = await Promise.all([send(id, alert('WH-6', 'wh-six')), send(id, alert('WH-7', 'wh-seven'))]);
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 202], JSON.stringify(answers));
    const runs = [await exists('t1567-002-generic-WH-6'), await exists('t1567-002-generic-WH-7')];
    assert.equal(runs.filter(Boolean).length, 1, 'exactly one run');
  });

  test('a delivery that was refused leaves no receipt: its corrected retry under the same ID is recorded', async () => {
    const id = newId();
    const refused = await send(id, { ...alert('WH-8', 'wh-eight'), bytesOut: -1 });
    assert.equal(refused.status, 400);
    const corrected = await send(id, alert('WH-8', 'wh-eight'));
    assert.equal(corrected.status, 202, JSON.stringify(corrected.body));
    assert.equal(corrected.body.duplicate, false);
  });

  test('a receipt workflow runs on the worker once its start delay has passed, and ends', async () => {
    const handle = await e2e.client.workflow.start(webhookReceipt, {
      workflowId: receiptWorkflowId('generic', newId()),
      taskQueue: e2e.config.temporal.ingestTaskQueue ?? e2e.config.temporal.taskQueue,
      memo: { bodySha256: 'x' },
      startDelay: '1s',
    });
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await handle.result();
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
  });
});
