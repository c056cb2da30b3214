/**
 * Where an acknowledged alert went (`alertRouting`, the webhook's GET /alerts/...), on a real dev server: a case named
 * after the alert answers from the server alone, without a query of the case index (which needs a worker, and
 * replays the index when it is out of the cache); an alert that opened no case is asked of its index, and the read API
 * bounds how many such queries run at once and for how long (`ingest.maxStatusQueries`, `ingest.statusQueryTimeout`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../../src/config';
import { PLAYBOOK_WORKFLOW_TYPE, workflowIdFor } from '../../src/contracts/workflow-ids';
import { buildApp } from '../../src/http/app';
import { alertStatusPath } from '../../src/http/routes/runs';
import { createLogger } from '../../src/logger';
import { PlaybookMetrics } from '../../src/metrics';
import { alertRouting, CASE_INDEX_WORKFLOW_TYPE } from '../../src/temporal/ingest';
import { rawTestConfig, unique } from '../helpers/fixtures';
import { startTestServer } from '../helpers/temporal';

describe('alertRouting: where an acknowledged alert went', () => {
  let env: TestWorkflowEnvironment;

  before(async () => {
    env = await startTestServer();
  });

  after(async () => {
    await env?.teardown();
  });

  test('an alert that opened a case is answered by the server alone, without asking its case index', async () => {
    // The index and the case exist, on a task queue no worker polls: a query of the index could not be answered.
    const alert = { source: 'generic' as const, alertId: unique('opener') };
    const noWorker = unique('no-worker');
    const index = await env.client.workflow.start(CASE_INDEX_WORKFLOW_TYPE, { taskQueue: noWorker, workflowId: unique('index') });
    const opened = await env.client.workflow.start(PLAYBOOK_WORKFLOW_TYPE, { taskQueue: noWorker, workflowId: workflowIdFor(alert) });
    const t0 = Date.now();
    const routed = await env.client.connection.withDeadline(Date.now() + 5_000, () => alertRouting(env.client, index.workflowId, alert));
    assert.deepEqual(routed, { workflowId: workflowIdFor(alert), joined: false });
    assert.ok(Date.now() - t0 < 5_000, 'answered without waiting for a worker');
    await Promise.all([index.terminate('test done'), opened.terminate('test done')]);
  });

  test('an alert that opened no case is asked of its index: none there, not routed', async () => {
    const alert = { source: 'generic' as const, alertId: unique('joiner') };
    assert.equal(await alertRouting(env.client, unique('no-such-index'), alert), null);
  });

  test('an alert that opened no case, whose index no worker answers, is not reported routed', async () => {
    const alert = { source: 'generic' as const, alertId: unique('joiner') };
    const index = await env.client.workflow.start(CASE_INDEX_WORKFLOW_TYPE, {
      taskQueue: unique('no-worker'),
      workflowId: unique('index'),
    });
    await assert.rejects(
      env.client.connection.withDeadline(Date.now() + 3_000, () => alertRouting(env.client, index.workflowId, alert)),
      'the index was asked (and could not answer)',
    );
    await index.terminate('test done');
  });

  test('the read API runs a bounded number of index queries, each for a bounded time: past either, 503 with Retry-After', async () => {
    // An index no worker answers holds its query until the timeout: with a bound of one, a second read meanwhile is
    // refused at once.
    const raw = rawTestConfig({ address: env.address, taskQueue: unique('status-gate') });
    const config = parseConfig({ ...raw, ingest: { ...(raw.ingest as object), maxStatusQueries: 1, statusQueryTimeout: '3s' } }, {});
    const metrics = new PlaybookMetrics({ processMetrics: false });
    const app = buildApp({ config, client: env.client, logger: createLogger({ level: 'silent' }), metrics });
    const index = await env.client.workflow.start(CASE_INDEX_WORKFLOW_TYPE, {
      taskQueue: unique('no-worker'),
      workflowId: unique('index'),
    });
    try {
      const url = (alertId: string) => alertStatusPath(index.workflowId, 'generic', alertId);
      const t0 = Date.now();
      const first = app.inject({ method: 'GET', url: url(unique('joiner')) });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const second = await app.inject({ method: 'GET', url: url(unique('joiner')) });
      assert.equal(second.statusCode, 503);
      assert.equal(second.headers['retry-after'], '1');
      assert.match(second.json().error, /already has 1 case index status queries waiting/);
      assert.ok(Date.now() - t0 < 2_500, 'refused at once, not queued behind the first');

      const timedOut = await first;
      assert.equal(timedOut.statusCode, 503);
      assert.equal(timedOut.headers['retry-after'], '1');
      assert.match(timedOut.json().error, /did not answer the status query within 3000 ms/);
      assert.ok(Date.now() - t0 >= 3_000, 'given up at the timeout');
      const shed = await metrics.statusReadsShed.get();
      assert.deepEqual(Object.fromEntries(shed.values.map((v) => [v.labels.reason, v.value])), { busy: 1, timeout: 1 });

      // The bound is free again: a read of an alert that opened a case needs no query and is answered.
      const opener = { source: 'generic' as const, alertId: unique('opener') };
      const opened = await env.client.workflow.start(PLAYBOOK_WORKFLOW_TYPE, {
        taskQueue: unique('no-worker'),
        workflowId: workflowIdFor(opener),
      });
      const routed = await app.inject({ method: 'GET', url: url(opener.alertId) });
      assert.equal(routed.statusCode, 200);
      assert.equal(routed.json().workflowId, workflowIdFor(opener));
      await opened.terminate('test done');
    } finally {
      await index.terminate('test done');
      await app.close();
    }
  });
});
