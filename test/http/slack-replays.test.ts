/**
 * The Slack replay guard across HTTP replicas: two instances of the real HTTP app, each with its own connection to
 * one real Temporal dev server, as two `start --http-only` processes are. A signed click is acted on by the first
 * replica it reaches; the same request replayed to the other is refused, because the first claimed it in Temporal
 * (src/temporal/slack-request-receipts.ts). The clicks name a run that does not exist, so each click that is acted
 * on is heard of exactly once on its response_url ("Not accepted: ..."), and a refused one never.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { slackReceiptWorkflowId, SLACK_RECEIPT_WINDOW_MS } from '../../src/temporal/slack-request-receipts';
import { SlackStandIn, type PostedMessage } from '../fakes/slack';
import { rawTestConfig, unique } from '../helpers/fixtures';
import { eventually, startTestServer, testDataConverter } from '../helpers/temporal';

const logger = createLogger({ level: 'silent' });
const RUN = 't1567-002-generic-SPL-NO-SUCH-RUN';

const message: PostedMessage = {
  channel: 'C0SOC0001',
  ts: '1764316800.000100',
  text: 'Approval needed',
  edits: [],
  blocks: [
    {
      type: 'actions',
      block_id: 'soar_approval',
      elements: [
        {
          type: 'button',
          action_id: 'approve_all',
          text: { type: 'plain_text', text: 'Approve all' },
          style: 'primary',
          value: JSON.stringify({ w: RUN, r: '5b1c7e0e-1111-4222-8333-944455556666', d: `sha256:${'a'.repeat(64)}` }),
        },
      ],
    },
  ],
};

describe('the Slack replay guard holds across HTTP replicas', { timeout: 180_000 }, () => {
  let env: TestWorkflowEnvironment;
  let slack: SlackStandIn;
  let secondClient: Client;
  const apps: ReturnType<typeof buildApp>[] = [];

  before(async () => {
    env = await startTestServer();
    slack = await new SlackStandIn().start();
    const raw = rawTestConfig({ address: env.address, taskQueue: unique('slack-replays') });
    raw.slack = {
      botToken: slack.token,
      signingSecret: slack.signingSecret,
      teamId: slack.teamId,
      appId: slack.appId,
      channel: 'C0SOC0001',
      apiUrl: slack.apiUrl,
      responseUrlPrefix: `${slack.url}/actions/`,
      approvers: { users: ['U0ALICE01'] },
    };
    const config = parseConfig(raw, {});
    // Two replicas: one configuration, one Temporal, a connection each.
    secondClient = new Client({ connection: await Connection.connect({ address: env.address }), dataConverter: testDataConverter });
    apps.push(buildApp({ config, client: env.client, logger }), buildApp({ config, client: secondClient, logger }));
  });

  after(async () => {
    for (const app of apps) await app.close();
    await secondClient?.connection.close();
    await slack?.stop();
    await env?.teardown();
  });

  const signed = (timestamp = Math.floor(Date.now() / 1000)) =>
    slack.signedClick({ user: 'U0ALICE01', message, actionId: 'approve_all', timestamp });
  const post = (replica: number, request: ReturnType<typeof signed>) =>
    (apps[replica] as ReturnType<typeof buildApp>).inject({
      method: 'POST',
      url: '/slack/interactions',
      headers: request.headers,
      payload: request.body,
    });

  test('refuses the same signed request replayed to the second replica with 401, and acts on it once', async () => {
    const request = signed();
    const heardBefore = slack.responses.length;
    const first = await post(0, request);
    assert.equal(first.statusCode, 200);
    assert.equal(first.body, '');

    const replay = await post(1, request);
    assert.equal(replay.statusCode, 401);
    assert.deepEqual(replay.json(), { error: 'Unauthorized', details: [] });
    const again = await post(0, request);
    assert.equal(again.statusCode, 401);

    // The first replica told the clicker what the run said; nobody else said anything.
    const heard = await eventually(() => Promise.resolve(slack.responses[heardBefore]), 30_000, 'the outcome of the first click');
    assert.match(heard.text, /^:no_entry: Not accepted: this run no longer waits for a decision\.$/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(slack.responses.length, heardBefore + 1);

    // The claim is a receipt in Temporal, open for the replay window.
    const receipt = await env.client.workflow.getHandle(slackReceiptWorkflowId(request.headers['x-slack-signature'] as string)).describe();
    assert.equal(receipt.status.name, 'RUNNING');
    assert.equal(receipt.type, 'webhookReceipt');
    assert.ok(SLACK_RECEIPT_WINDOW_MS >= 10 * 60_000);
  });

  test('two replicas given the same request at the same moment: exactly one acts on it', async () => {
    const request = signed();
    const answers = await Promise.all([post(0, request), post(1, request)]);
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [200, 401]);
  });

  test('a different click (a new signed request) is accepted by either replica, at the edge of the window too', async () => {
    for (const [replica, timestamp] of [
      [1, Math.floor(Date.now() / 1000)],
      [0, Math.floor(Date.now() / 1000) - 299],
    ] as const) {
      const res = await post(replica, signed(timestamp));
      assert.equal(res.statusCode, 200, res.body);
    }
  });
});
