/**
 * Where an acknowledged alert went (`alertRouting`, the webhook's GET /alerts/...), on a real dev server: a case named
 * after the alert answers from the server alone, without a query of the case index (which needs a worker, and
 * replays the index when it is out of the cache); an alert that opened no case is asked of its index.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PLAYBOOK_WORKFLOW_TYPE, workflowIdFor } from '../../src/contracts/workflow-ids';
import { alertRouting, CASE_INDEX_WORKFLOW_TYPE } from '../../src/temporal/ingest';
import { unique } from '../helpers/fixtures';
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
    const index = await env.client.workflow.start(CASE_INDEX_WORKFLOW_TYPE, { taskQueue: unique('no-worker'), workflowId: unique('index') });
    await assert.rejects(
      env.client.connection.withDeadline(Date.now() + 3_000, () => alertRouting(env.client, index.workflowId, alert)),
      'the index was asked (and could not answer)',
    );
    await index.terminate('test done');
  });
});
