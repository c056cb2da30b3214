/**
 * Tier 2 escalations in Slack with the real @slack/web-api client against the Slack stand-in: the post (channel,
 * mention, case link, alert text made inert), the log line that always comes first, a transient fault thrown for the
 * activity to retry, and a refusal no retry can fix left on the log alone.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ConnectorUnavailableError } from '../../src/connectors/errors';
import { runUrl } from '../../src/connectors/slack/blocks';
import { SlackApprovalNotifier } from '../../src/connectors/slack/client';
import { SlackEscalationNotifier } from '../../src/connectors/slack/escalations';
import type { ContainmentEscalation, EscalationNotifier } from '../../src/contracts/ports';
import { createLogger } from '../../src/logger';
import { SlackStandIn } from '../fakes/slack';
import { escalatingAlert } from '../helpers/fixtures';

describe('Tier 2 escalations in Slack', () => {
  let slack: SlackStandIn;
  let logged: ContainmentEscalation[];
  const log: EscalationNotifier = {
    name: 'log',
    escalate: (notice) => {
      logged.push(notice);
      return Promise.resolve({ via: 'log' });
    },
  };
  const notice: ContainmentEscalation = {
    workflowId: 't1567-002-generic-ESC-1',
    reason: 'containment refused by a guard rail: <!channel> ceo is a protected account (ceo)',
    alert: escalatingAlert({ user: 'ceo', host: 'EXEC-01' }),
    containment: [
      {
        action: 'revoke-cloud-storage-access',
        target: 'ceo',
        provider: 'guard-rail',
        status: 'refused',
        detail: 'protected',
        at: '2026-11-28T01:20:00.000Z',
      },
      {
        action: 'isolate-endpoint',
        target: 'EXEC-01',
        provider: 'crowdstrike',
        status: 'done',
        detail: 'contained',
        at: '2026-11-28T01:20:00.000Z',
      },
    ],
  };
  const notifier = (escalation?: { channel?: string; userGroup?: string }) =>
    new SlackEscalationNotifier(
      new SlackApprovalNotifier({
        botToken: slack.token,
        apiUrl: slack.apiUrl,
        teamId: slack.teamId,
        channel: 'C0SOC0001',
        approvers: { users: [], userGroups: [] },
        userMap: {},
        mapUsersByEmail: false,
        escalation,
        uiUrl: 'http://ui.example:8233',
        namespace: 'soc',
        logger: createLogger({ level: 'silent' }),
        timeoutMs: 2000,
      }),
      log,
      createLogger({ level: 'silent' }),
    );

  before(async () => {
    slack = await new SlackStandIn().start();
  });
  beforeEach(() => {
    logged = [];
    slack.messages.length = 0;
  });
  after(() => slack.stop());

  test('posts to the escalation channel, mentions the group, links the case, and logs it first', async () => {
    assert.deepEqual(await notifier({ channel: 'C0ESC0001', userGroup: 'S0ESC0001' }).escalate(notice), { via: 'slack' });
    assert.equal(logged.length, 1);
    const [posted] = slack.topLevel('C0ESC0001');
    assert.ok(posted, 'posted to the escalation channel');
    const blocks = JSON.stringify(posted.blocks);
    assert.ok(blocks.includes('<!subteam^S0ESC0001> :rotating_light: *Tier 2 escalation*'));
    assert.ok(blocks.includes(`<${runUrl('http://ui.example:8233', 'soc', notice.workflowId)}|Open the case in Temporal>`));
    assert.ok(blocks.includes('isolate-endpoint `EXEC-01` via `crowdstrike`: *done*'));
    assert.ok(!blocks.includes('<!channel>') && !posted.text.includes('<!channel>'), 'alert text cannot notify the channel');
    assert.match(posted.text, /^Tier 2 escalation: `ceo` on `EXEC-01`, /);
  });

  test('without an escalation channel, the approval channel', async () => {
    await notifier().escalate(notice);
    assert.equal(slack.topLevel('C0SOC0001').length, 1);
  });

  test('a transient Slack fault is thrown for the activity to retry; the log has it already', async () => {
    slack.failNext('chat.postMessage', notice.workflowId, { status: 200, body: { ok: false, error: 'service_unavailable' } });
    await assert.rejects(notifier().escalate(notice), ConnectorUnavailableError);
    assert.equal(logged.length, 1);
  });

  test('a refusal no retry can fix (the bot is not in the channel) leaves the escalation on the log alone', async () => {
    slack.failNext('chat.postMessage', notice.workflowId, { status: 200, body: { ok: false, error: 'not_in_channel' } });
    assert.deepEqual(await notifier({ channel: 'C0ESC0001' }).escalate(notice), { via: 'log' });
    assert.equal(logged.length, 1);
    assert.equal(slack.messages.length, 0);
  });
});
