/**
 * An alert storm through the real webhook, case indexes on their own task queue and worker, on a real dev server:
 * many senders at once, a mix of alerts that open cases, alerts that join an open case, and exact duplicates, each
 * retried after a 503 as a SIEM would. Counted as a SOC would count it: every alert acknowledged, none lost, one run
 * per case, and every joined alert present in its case's evidence. Small enough for CI; `npm run bench` scales it.
 * The storm runs with the shipped answer (202 "recorded, case pending" as soon as the record is written); where each
 * alert went is read back at its `statusUrl`, with the burst pacing holding the case starts back (at its minimum pace)
 * while the alerts come. And with `ingest.answerWithin`: an index that cannot answer in time
 * still gets the alert, by signal, exactly once; and with no ingest worker at all the default answer still comes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { parseConfig, type Config } from '../../src/config';
import type { RunState } from '../../src/contracts/playbook';
import { SA } from '../../src/contracts/search-attributes';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { createActivityDeps } from '../../src/wiring';
import { createIngestWorker, createWorker } from '../../src/worker';
import { getStateQuery } from '../../workflows/messages';
import { startE2e, type E2e } from '../helpers/e2e';
import { escalatingAlert, rawTestConfig, unique } from '../helpers/fixtures';
import { eventually, startTestServer, workflowBundle } from '../helpers/temporal';

const CASES = 60;
const JOINS = 25;
const DUPLICATES = 15;
const SENDERS = 16;

interface Answer {
  status: number;
  body: { workflowId?: string; duplicate?: boolean; joined?: boolean; pending?: boolean; statusUrl?: string; caseIndexId?: string };
}

// Case indexes on their own queue and worker (the shipped layout), and on the playbook's (`ingestTaskQueue` unset).
for (const layout of ['ingest worker', 'one worker'] as const)
  describe(`an alert storm with joins and duplicates (${layout})`, () => {
    let e2e: E2e;

    before(async () => {
      e2e = await startE2e({
        name: 'storm',
        // The shipped answer: recorded, case pending. With burst pacing, held to its minimum whatever the machine (no
        // answer is ever as quick as 1 ms): the case starts are paced, and none may be lost or made twice for it.
        configure: (raw) => ({
          ...raw,
          temporal: {
            ...(raw.temporal as object),
            ...(layout === 'ingest worker' ? { ingestTaskQueue: unique('storm-ingest') } : {}),
            worker: { burstPacing: { enabled: true, ackTarget: '1ms', minStartsPerSecond: 2, backlog: 2 } },
          },
          ingest: { answerWithin: '0s' },
        }),
      });
    });

    after(() => e2e?.stop());

    /** Delivers one alert as a SIEM that retries does: again after Retry-After while the answer is a 503. */
    let retries = 0;
    const deliver = async (alert: object): Promise<Answer> => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const res = await e2e.post('/webhooks/siem/generic', alert);
        const answer = { status: res.status, body: (await res.json()) as Answer['body'] };
        if (res.status !== 503) return answer;
        retries++;
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? '1') * 1000));
      }
      throw new Error('still 503 after 20 attempts');
    };

    test('every alert is acknowledged, none is lost, each case has one run holding exactly its alerts', { timeout: 240_000 }, async () => {
      const run = unique('s');
      // Escalating alerts (unknown users, a large upload at night): each case waits for approval, so it stays open
      // for every alert that joins it.
      const alert = (n: number, alertId: string) => ({
        alertId,
        user: `${run}-user-${n}`,
        host: `HOST-${n}`,
        srcIp: '10.0.0.1',
        destDomain: n % 2 === 0 ? 'dropbox.com' : 'www.dropbox.com',
        bytesOut: 900 * 1024 * 1024,
        eventTime: '2026-11-28T01:14:00Z',
        severity: 'high',
        ruleName: 'Large upload to cloud storage',
      });
      const openers = Array.from({ length: CASES }, (_, n) => alert(n, `${run}-open-${n}`));
      const joiners = Array.from({ length: JOINS }, (_, j) => alert((j * 7) % CASES, `${run}-join-${j}`));
      const duplicates = Array.from({ length: DUPLICATES }, (_, d) => openers[(d * 11) % CASES] ?? openers[0]);
      // Openers first in the queue, then the rest interleaved: with 16 senders, joins and duplicates race the openers.
      const queue = [...openers, ...joiners.flatMap((j, i) => [j, ...(duplicates[i] ? [duplicates[i]] : [])])];
      const answers: { alert: (typeof queue)[number]; answer: Answer }[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: SENDERS }, async () => {
          for (let i = next++; i < queue.length; i = next++) {
            const a = queue[i] as (typeof queue)[number];
            answers.push({ alert: a, answer: await deliver(a) });
          }
        }),
      );

      // Acknowledged: every delivery ended in a 2xx, the shipped answer: 202 "recorded, case pending" with a status link.
      // An alert whose first answer was a 503 "unknown" (Temporal did not confirm in time, but recorded it) is
      // acknowledged on retry all the same, and routed once.
      assert.deepEqual(
        answers.filter(({ answer }) => answer.status !== 202).map(({ answer }) => answer),
        [],
      );
      const distinct = new Set(queue.map((a) => a.alertId));
      assert.equal(new Set(answers.map(({ alert: a }) => a.alertId)).size, distinct.size, 'every alert acknowledged');
      for (const { alert: a, answer } of answers) {
        assert.equal(answer.body.pending, true);
        assert.equal(answer.body.statusUrl, `/alerts/${answer.body.caseIndexId}/generic/${a.alertId}`);
      }
      const pending = answers.length;

      // Where each alert went, read at its status link once its index has routed it: one case per user, opened by
      // exactly one of the user's alerts, every other alert of the user joined to it; a resend reads the same case.
      const named = new Map<string, string>();
      const openers_ = new Map<string, Set<string>>();
      for (const { alert: a, answer } of answers) {
        const routed = await eventually(
          async () => {
            const res = await e2e.get(answer.body.statusUrl ?? '');
            // 404: not routed yet; 503 with Retry-After: the server's index queries are busy (ingest.maxStatusQueries).
            if (res.status === 404 || (res.status === 503 && res.headers.get('retry-after'))) return null;
            assert.equal(res.status, 200);
            return (await res.json()) as { workflowId: string; joined: boolean; routed: boolean };
          },
          60_000,
          `the routing of ${a.alertId}`,
        );
        assert.equal(routed.routed, true);
        const known = named.get(a.user);
        if (known) assert.equal(routed.workflowId, known, `${a.alertId} went to the case of ${a.user}`);
        else named.set(a.user, routed.workflowId);
        if (!routed.joined) {
          assert.equal(routed.workflowId, `t1567-002-generic-${a.alertId}`, 'an alert that opened a case names it');
          openers_.set(a.user, (openers_.get(a.user) ?? new Set()).add(a.alertId));
        }
      }
      for (const [user, alertIds] of openers_) assert.equal(alertIds.size, 1, `one alert opened ${user}'s case`);
      assert.equal(named.size, CASES);
      process.stderr.write(`storm: ${queue.length} deliveries, ${retries} retried after a 503, ${pending} answered "case pending"\n`);
      const query = `WorkflowType = 'exfilToCloudStorage' AND TaskQueue = '${e2e.config.temporal.taskQueue}'`;
      await eventually(async () => (await e2e.client.workflow.count(query)).count === CASES, 60_000, `${CASES} runs in visibility`);
      const runOf = new Map<string, string>();
      for await (const run of e2e.client.workflow.list({ query })) {
        const user = run.typedSearchAttributes.get(SA.alertUser) ?? '';
        assert.ok(!runOf.has(user), `a second run for ${user}: no duplicate run`);
        runOf.set(user, run.workflowId);
      }
      assert.equal(runOf.size, CASES);
      for (const [user, workflowId] of named) assert.equal(runOf.get(user), workflowId, `the answers name ${user}'s one run`);

      // Nothing lost: every case's evidence holds exactly the distinct alerts of its user.
      const expected = new Map<string, Set<string>>();
      for (const a of queue) expected.set(a.user, (expected.get(a.user) ?? new Set()).add(a.alertId));
      for (const [user, alertIds] of expected) {
        const workflowId = runOf.get(user) ?? '';
        const state = await eventually(
          async () => {
            const s: RunState = await e2e.client.workflow.getHandle(workflowId).query(getStateQuery);
            return s.alerts.length === alertIds.size ? s : null;
          },
          60_000,
          `the evidence of ${workflowId}`,
        );
        assert.deepEqual(state.alerts.map((a) => a.alertId).sort(), [...alertIds].sort());
        assert.equal(state.alerts.filter((a) => a.role === 'opened').length, 1);
      }

      // The pacing held case starts back while the alerts came, and let them go once the burst was over.
      const ended = await eventually(
        () => Promise.resolve(e2e.pacingEvents.find((e) => e.event === 'ended') ?? null),
        10_000,
        'the end of the paced burst',
      );
      assert.ok(e2e.pacingEvents.some((e) => e.event === 'paced'));
      assert.ok(ended.event === 'ended' && ended.heldStarts > 0, `case starts held: ${JSON.stringify(ended)}`);
    });
  });

describe('when the case index cannot answer in time', () => {
  let env: TestWorkflowEnvironment;
  let app: FastifyInstance;
  /** The same server with the shipped answer (`ingest.answerWithin` 0). */
  let shipped: FastifyInstance;
  let config: Config;
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];

  before(async () => {
    env = await startTestServer();
    const taskQueue = unique('late');
    const raw = rawTestConfig({ address: env.address, taskQueue });
    config = parseConfig(
      {
        ...raw,
        // The ingest worker with fewer pollers than slots (temporal.worker.ingestWorkflowTaskPolls): it routes the same.
        temporal: { ...(raw.temporal as object), ingestTaskQueue: `${taskQueue}-ingest`, worker: { ingestWorkflowTaskPolls: 4 } },
        ingest: { answerWithin: '500ms' },
      },
      {},
    );
    const logger = createLogger({ level: 'silent' });
    // The playbook worker runs; the ingest worker does not yet, so no case index can take a workflow task.
    const playbook = await createWorker({
      config,
      connection: env.nativeConnection,
      deps: createActivityDeps(config, logger),
      workflowBundle: await workflowBundle(),
    });
    workers.push(playbook);
    // The playbook worker keeps the SDK's polling (src/worker.ts): as many pollers as slots, a fifth on the task queue.
    assert.deepEqual(playbook.options.workflowTaskPollerBehavior, { type: 'simple-maximum', maximum: 8 });
    assert.equal(playbook.options.nonStickyToStickyPollRatio, 0.2);
    running.push(playbook.run());
    app = buildApp({ config, client: env.client, logger });
    shipped = buildApp({ config: { ...config, ingest: { ...config.ingest, answerWithin: 0 } }, client: env.client, logger });
  });

  after(async () => {
    await app?.close();
    await shipped?.close();
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await env?.teardown();
  });

  const postTo = (target: FastifyInstance, alert: object) =>
    target.inject({
      method: 'POST',
      url: '/webhooks/siem/generic',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(alert),
    });
  const post = (alert: object) => postTo(app, alert);

  test(
    'the alert is recorded by signal and answered "case pending"; once the index runs, it opens one case',
    { timeout: 120_000 },
    async () => {
      const alert = { ...escalatingAlert({ alertId: unique('late') }) };
      const { source: _source, raw: _raw, ...body } = alert;
      const first = await post(body);
      assert.equal(first.statusCode, 202);
      assert.deepEqual(Object.keys(first.json()).sort(), ['caseIndexId', 'pending', 'recorded', 'statusUrl']);
      assert.equal(first.json().pending, true);
      assert.equal(first.headers.location, first.json().statusUrl);

      // The shipped answer (answerWithin 0) needs no worker at all: the record is the signal-with-start.
      const other = escalatingAlert({ alertId: unique('now'), user: unique('now-user') });
      const { source: _s, raw: _r, ...otherBody } = other;
      const now = await postTo(shipped, otherBody);
      assert.equal(now.statusCode, 202);
      assert.equal(now.json().pending, true);

      // The index comes up: it routes the signalled alert (and the update, if it got through too) into one case.
      const ingest = await createIngestWorker({ config, connection: env.nativeConnection, workflowBundle: await workflowBundle() });
      assert.ok(ingest);
      // As configured: four pollers for eight slots, half on the task queue (an index's tasks are mostly its first).
      assert.deepEqual(ingest.options.workflowTaskPollerBehavior, { type: 'simple-maximum', maximum: 4 });
      assert.equal(ingest.options.nonStickyToStickyPollRatio, 0.5);
      workers.push(ingest);
      running.push(ingest.run());
      const workflowId = `t1567-002-generic-${alert.alertId}`;
      const state = await eventually(
        async () => {
          const s: RunState = await env.client.workflow.getHandle(workflowId).query(getStateQuery);
          return s.stage === 'awaiting-approval' ? s : null;
        },
        60_000,
        'the case opened by the signalled alert',
      );
      assert.deepEqual(
        state.alerts.map((a) => a.alertId),
        [alert.alertId],
      );

      // Once the index runs, both status links name the case their alert opened.
      const otherStatus = await eventually(
        async () => {
          const res = await shipped.inject({ method: 'GET', url: now.json().statusUrl });
          return res.statusCode === 200 ? res.json<{ workflowId: string; joined: boolean }>() : null;
        },
        60_000,
        'the routing of the alert answered at once',
      );
      assert.equal(otherStatus.workflowId, `t1567-002-generic-${other.alertId}`);
      assert.equal(otherStatus.joined, false);
      const status = await eventually(
        async () => {
          const res = await app.inject({ method: 'GET', url: first.json().statusUrl });
          return res.statusCode === 200 ? res.json() : null;
        },
        60_000,
        'the routing of the signalled alert',
      );
      assert.deepEqual(status, {
        caseIndexId: first.json().caseIndexId,
        source: 'generic',
        alertId: alert.alertId,
        routed: true,
        workflowId,
        joined: false,
      });

      // A retry is answered with the case, as a duplicate, by both answers; Temporal holds exactly one run per alert.
      const retry = await post(body);
      assert.equal(retry.statusCode, 200);
      assert.deepEqual(retry.json(), { workflowId, duplicate: true });
      const resent = await postTo(shipped, otherBody);
      assert.equal(resent.statusCode, 202);
      assert.equal(resent.json().statusUrl, now.json().statusUrl);
      const runs = async () => {
        const ids: string[] = [];
        const query = `WorkflowType = 'exfilToCloudStorage' AND TaskQueue = '${config.temporal.taskQueue}'`;
        for await (const run of env.client.workflow.list({ query })) ids.push(run.workflowId);
        return ids.sort();
      };
      // The resend is routed (a duplicate) in the index's next task; give it time to have done anything it would do.
      await eventually(async () => (await runs()).length === 2, 30_000, 'both runs in visibility');
      await new Promise((r) => setTimeout(r, 3_000));
      assert.deepEqual(await runs(), [workflowId, `t1567-002-generic-${other.alertId}`].sort());
    },
  );
});
