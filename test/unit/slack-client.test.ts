/**
 * The Slack connector with the real @slack/web-api client against the Slack stand-in: approver resolution, and
 * Slack's failures in the connector vocabulary (which decides how Temporal retries).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ConnectorAuthError,
  ConnectorConfigurationError,
  ConnectorNotFoundError,
  ConnectorRateLimitedError,
  ConnectorUnavailableError,
} from '../../src/connectors/errors';
import { SlackApprovalNotifier, type SlackNotifierOptions } from '../../src/connectors/slack/client';
import { createLogger } from '../../src/logger';
import { SlackStandIn } from '../fakes/slack';

describe('Slack connector', () => {
  let slack: SlackStandIn;
  const notifier = (options: Partial<SlackNotifierOptions> = {}) =>
    new SlackApprovalNotifier({
      botToken: slack.token,
      apiUrl: slack.apiUrl,
      teamId: slack.teamId,
      channel: 'C0SOC0001',
      approvers: { users: ['U0ALICE01'], userGroups: ['S0SOC0001'] },
      userMap: { U0CAROL01: 'carol' },
      mapUsersByEmail: true,
      identity: { domains: ['acme.example'], netbiosNames: ['ACME'] },
      uiUrl: 'http://127.0.0.1:8233',
      namespace: 'default',
      logger: createLogger({ level: 'silent' }),
      timeoutMs: 2000,
      ...options,
    });

  before(async () => {
    slack = await new SlackStandIn().start();
    slack.users = {
      U0ALICE01: { name: 'alice', email: 'Alice.Chen@acme.example' },
      U0CAROL01: { name: 'carol' },
      U0BOT0002: { name: 'bot', email: 'bot@acme.example', is_bot: true },
      U0GONE001: { name: 'gone', email: 'gone@acme.example', deleted: true },
    };
    slack.groups = { S0SOC0001: ['U0CAROL01', 'U0BOT0002', 'U0GONE001', 'U0ALICE01'], S0ESC0001: ['U0ALICE01'] };
  });
  after(() => slack.stop());

  test('an e-mail outside the organisation maps to the whole address, never to its local part (a different person)', async () => {
    slack.users.U0PARTNER = { name: 'jdoe-partner', email: 'JDoe@partner.example' };
    try {
      const approvers = await notifier({ approvers: { users: ['U0PARTNER'], userGroups: [] } }).resolveApprovers();
      assert.deepEqual(approvers, [{ userId: 'U0PARTNER', via: 'user', group: null, name: 'jdoe@partner.example', nameSource: 'email' }]);
    } finally {
      delete slack.users.U0PARTNER;
      slack.calls.length = 0; // the next test lists every call it causes
    }
  });

  test('resolves listed users and group members to directory names by mapping, else by e-mail; bots and deleted users to none', async () => {
    const approvers = await notifier({ escalation: { userGroup: 'S0ESC0001' } }).resolveApprovers();
    assert.deepEqual(approvers, [
      { userId: 'U0ALICE01', via: 'user', group: null, name: 'alice.chen', nameSource: 'email' },
      { userId: 'U0CAROL01', via: 'group', group: 'S0SOC0001', name: 'carol', nameSource: 'mapping' },
      { userId: 'U0BOT0002', via: 'group', group: 'S0SOC0001', name: null, nameSource: null },
      { userId: 'U0GONE001', via: 'group', group: 'S0SOC0001', name: null, nameSource: null },
    ]);
    // carol is mapped: no users.info for her.
    assert.deepEqual(
      slack.calls.map((c) => [c.method, c.args.usergroup ?? c.args.user ?? null]),
      [
        ['auth.test', null],
        ['usergroups.users.list', 'S0SOC0001'],
        ['usergroups.users.list', 'S0ESC0001'],
        ['users.info', 'U0ALICE01'],
        ['users.info', 'U0BOT0002'],
        ['users.info', 'U0GONE001'],
      ],
    );
    assert.ok(slack.http.requests.every((r) => r.headers.authorization === `Bearer ${slack.token}`));
  });

  test('with e-mail mapping off, only mapped users have a name', async () => {
    const approvers = await notifier({
      mapUsersByEmail: false,
      approvers: { users: ['U0ALICE01', 'U0CAROL01'], userGroups: [] },
    }).resolveApprovers();
    assert.deepEqual(
      approvers.map((a) => a.name),
      [null, 'carol'],
    );
  });

  test('refuses a token that belongs to another workspace', async () => {
    await assert.rejects(notifier({ teamId: 'T0OTHER01' }).resolveApprovers(), (err: Error) => {
      assert.ok(err instanceof ConnectorConfigurationError);
      assert.equal(err.message, `slack: the bot token belongs to team ${slack.teamId}, not the configured T0OTHER01`);
      return true;
    });
  });

  test("maps Slack's failures: 429 Retry-After, ok:false codes, HTTP 5xx, connection refused; never with the token", async () => {
    const cases: [Parameters<SlackStandIn['failNext']>[2], new (...args: never[]) => Error, RegExp][] = [
      [
        { status: 429, headers: { 'retry-after': '7' }, body: { ok: false, error: 'ratelimited' } },
        ConnectorRateLimitedError,
        /rate limited, retry after 7s/,
      ],
      [{ body: { ok: false, error: 'ratelimited' } }, ConnectorRateLimitedError, /usergroups\.users\.list: ratelimited/],
      [{ body: { ok: false, error: 'invalid_auth' } }, ConnectorAuthError, /invalid_auth \(check the bot token/],
      [{ body: { ok: false, error: 'missing_scope', needed: 'usergroups:read' } }, ConnectorAuthError, /missing_scope/],
      [{ body: { ok: false, error: 'no_such_subteam' } }, ConnectorNotFoundError, /no_such_subteam/],
      [{ body: { ok: false, error: 'internal_error' } }, ConnectorUnavailableError, /internal_error/],
      [{ status: 503, body: 'down' }, ConnectorUnavailableError, /HTTP 503/],
    ];
    for (const [answer, type, message] of cases) {
      slack.failNext('usergroups.users.list', 'S0SOC0001', answer);
      await assert.rejects(notifier().resolveApprovers(), (err: Error) => {
        assert.ok(err instanceof type, `${err.name} for ${JSON.stringify(answer)}`);
        assert.match(err.message, message);
        assert.ok(!err.message.includes(slack.token));
        if (err instanceof ConnectorRateLimitedError && answer.status === 429) assert.equal(err.retryAfterMs, 7000);
        return true;
      });
    }
    const down = notifier({ apiUrl: 'http://127.0.0.1:1/api/' });
    await assert.rejects(down.resolveApprovers(), ConnectorUnavailableError);
  });

  test('the stand-in answers not_authed without a token, as Slack does (form and JSON encodings)', async () => {
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'usergroup=S0SOC0001'],
      ['application/json', '{"usergroup":"S0SOC0001"}'],
    ] as const) {
      const res = await fetch(`${slack.apiUrl}usergroups.users.list`, { method: 'POST', headers: { 'content-type': type }, body });
      assert.deepEqual(await res.json(), { ok: false, error: 'not_authed' });
      const authed = await fetch(`${slack.apiUrl}usergroups.users.list`, {
        method: 'POST',
        headers: { 'content-type': type, authorization: `Bearer ${slack.token}` },
        body,
      });
      assert.deepEqual(await authed.json(), { ok: true, users: slack.groups.S0SOC0001 });
    }
  });
});
