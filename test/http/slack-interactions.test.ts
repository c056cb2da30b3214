/**
 * `POST /slack/interactions` before any decision reaches a run: signature, time window, replays, workspace and app,
 * payload shape. Built with `app.inject()` and an injected clock; the Temporal client points at a closed port, so a
 * request that passes every check meets the shared replay guard failing closed. What a reachable Temporal does with
 * clicks and their replays across replicas: test/http/slack-replays.test.ts. The signed requests come from the Slack
 * stand-in, which signs independently of the code under test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { parseConfig } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { SlackStandIn, type Click, type PostedMessage } from '../fakes/slack';
import { rawTestConfig } from '../helpers/fixtures';

const NOW = new Date('2026-11-28T08:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '500ms' }) });
const logger = createLogger({ level: 'silent' });

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
          value: JSON.stringify({ w: 't1567-002-generic-SPL-1', r: '5b1c7e0e-1111-4222-8333-944455556666', d: `sha256:${'a'.repeat(64)}` }),
        },
        {
          type: 'button',
          action_id: 'not_ours',
          text: { type: 'plain_text', text: 'Something else' },
          value: 'x',
        },
      ],
    },
  ],
};

describe('POST /slack/interactions authenticates every request before anything else', () => {
  let slack: SlackStandIn;
  let app: ReturnType<typeof buildApp>;

  before(async () => {
    slack = await new SlackStandIn().start();
    const raw = rawTestConfig();
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
    app = buildApp({ config: parseConfig(raw, {}), client: unreachable, logger, now: () => NOW });
  });

  after(async () => {
    await app.close();
    await unreachable.connection.close();
    await slack.stop();
  });

  const send = (click: Partial<Click> = {}, mutate: (r: ReturnType<SlackStandIn['signedClick']>) => void = () => {}) => {
    const request = slack.signedClick({ user: 'U0ALICE01', message, actionId: 'approve_all', timestamp: NOW_S, ...click });
    mutate(request);
    return app.inject({ method: 'POST', url: '/slack/interactions', headers: request.headers, payload: request.body });
  };

  const unauthorized = (res: Awaited<ReturnType<typeof send>>) => {
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { error: 'Unauthorized', details: [] });
  };

  test('rejects a request signed with another secret (forged) with an opaque 401', async () => {
    unauthorized(await send({ secret: 'not-the-signing-secret' }));
  });

  test('rejects a Slack click older than five minutes', async () => {
    unauthorized(await send({ timestamp: NOW_S - 301 }));
  });

  test('rejects a Slack click dated more than five minutes in the future', async () => {
    unauthorized(await send({ timestamp: NOW_S + 301 }));
  });

  test('rejects a request whose body was altered after signing', async () => {
    unauthorized(await send({}, (r) => (r.body = r.body.replace('approve_all', 'approve_isolate'))));
  });

  test('rejects missing or malformed signature headers, and answers 401 before looking at the body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/slack/interactions',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'this is not a Slack payload at all',
    });
    unauthorized(res);
    unauthorized(await send({}, (r) => (r.headers['x-slack-signature'] = 'v1=abc')));
    unauthorized(await send({}, (r) => (r.headers['x-slack-request-timestamp'] = '17643168e2')));
    unauthorized(await send({}, (r) => delete r.headers['x-slack-request-timestamp']));
  });

  const contentTypes: [string, string | undefined, string][] = [
    ['malformed JSON', 'application/json', '{"payload": '],
    ['valid JSON', 'application/json', '{"type": "block_actions"}'],
    ['plain text', 'text/plain', 'hello'],
    ['an unknown type', 'application/x-made-up', 'x'],
    ['NDJSON', 'application/x-ndjson', '{}\n{}'],
    ['no content type', undefined, 'payload=%7B%7D'],
    ['a JSON body with a __proto__ key', 'application/json', '{"__proto__": {"x": 1}}'],
    ['an empty JSON body', 'application/json', ''],
  ];
  for (const [what, type, payload] of contentTypes) {
    test(`answers an unsigned request with ${what} with 401, never 400 or 415`, async () => {
      unauthorized(
        await app.inject({
          method: 'POST',
          url: '/slack/interactions',
          headers: type === undefined ? {} : { 'content-type': type },
          payload,
        }),
      );
    });
  }

  test('answers a badly signed JSON body with 401, and a correctly signed one that is not form-encoded with 415', async () => {
    unauthorized(
      await send({ secret: 'not-the-signing-secret' }, (r) => {
        r.headers['content-type'] = 'application/json';
      }),
    );
    const res = await send({ timestamp: NOW_S - 5 }, (r) => {
      r.headers['content-type'] = 'text/plain';
    });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().error, 'Unsupported content type: Slack interactions are application/x-www-form-urlencoded');
  });

  test('refuses a well-formed signed click with 503 when Temporal cannot confirm it is not a replay (fail closed)', async () => {
    const before = slack.responses.length;
    const request = slack.signedClick({ user: 'U0ALICE01', message, actionId: 'approve_all', timestamp: NOW_S - 10 });
    const first = await app.inject({ method: 'POST', url: '/slack/interactions', headers: request.headers, payload: request.body });
    assert.equal(first.statusCode, 503);
    assert.deepEqual(first.json(), {
      error: 'Cannot act on this Slack request: the workflow service did not confirm it is not a replay. Click the button again.',
      details: [],
    });
    assert.equal(first.headers['retry-after'], '1');
    // The same request again is a replay to this process: refused without asking anyone.
    unauthorized(await app.inject({ method: 'POST', url: '/slack/interactions', headers: request.headers, payload: request.body }));
    // Nothing was handed to a run, so the clicker hears nothing on response_url.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(slack.responses.length, before);
  });

  test('refuses another workspace or another app with a 403, even when signed', async () => {
    for (const click of [{ team: 'T0OTHER01' }, { appId: 'A0OTHER01' }]) {
      const res = await send(click);
      assert.equal(res.statusCode, 403);
      assert.deepEqual(res.json(), { error: 'This Slack workspace or app may not act here', details: [] });
    }
  });

  test('answers 400 naming the problem for a signed payload that is not an approval click', async () => {
    const res = await send({ actionId: 'not_ours' });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      error: 'Unknown Slack action',
      details: [{ path: 'actions.0.action_id', message: 'is not an approval button' }],
    });
    const bad = await send({ value: '{"w":"run","r":"x","d":"md5:1"}' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error, 'Invalid button value');
    assert.equal(bad.json().details[0].path, 'd');
  });

  test('is not there when Slack is not configured', async () => {
    const plain = buildApp({ config: parseConfig(rawTestConfig(), {}), client: unreachable, logger, now: () => NOW });
    const res = await plain.inject({ method: 'POST', url: '/slack/interactions', payload: '' });
    assert.equal(res.statusCode, 404);
    await plain.close();
  });
});
