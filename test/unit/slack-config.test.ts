/** The Slack and approval-timing configuration: secrets, IDs and durations, with errors that name the key. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig, sanitizeConfig, secretsOf } from '../../src/config';
import { playbookInput } from '../../src/temporal/playbook-runs';
import { escalatingAlert, rawTestConfig, TEST_PAYLOAD_KEY } from '../helpers/fixtures';

const slack = {
  botToken: 'env:SLACK_BOT_TOKEN',
  signingSecret: 'env:SLACK_SIGNING_SECRET',
  teamId: 'T0001',
  appId: 'A0KRD7HC3',
  channel: 'C024BE91L',
  approvers: { users: ['U012AB3CD'], userGroups: ['S0614TZR7'] },
};
const env = { SLACK_BOT_TOKEN: 'xoxb-very-secret-token', SLACK_SIGNING_SECRET: 'signing-very-secret' };

describe('Slack configuration', () => {
  test('reads secrets from the environment, defaults the API URL, and keeps both secrets out of the sanitized view', () => {
    const config = parseConfig({ ...rawTestConfig(), slack }, env);
    assert.equal(config.slack?.botToken, 'xoxb-very-secret-token');
    assert.equal(config.slack?.apiUrl, 'https://slack.com/api/');
    assert.equal(config.slack?.responseUrlPrefix, 'https://hooks.slack.com/');
    assert.equal(config.slack?.mapUsersByEmail, true);
    // The test configuration's payload encryption key is a secret too.
    assert.deepEqual(secretsOf(config).sort(), [TEST_PAYLOAD_KEY.key, 'signing-very-secret', 'xoxb-very-secret-token'].sort());
    const shown = JSON.stringify(sanitizeConfig(config));
    assert.ok(!shown.includes('very-secret'), shown);
  });

  test('errors name each wrong key', () => {
    assert.throws(
      () =>
        parseConfig(
          {
            ...rawTestConfig(),
            slack: { ...slack, teamId: 'acme', channel: '#soc', approvers: {}, userMap: { alice: 'alice' }, escalation: {} },
          },
          env,
        ),
      (err: ConfigError) => {
        assert.deepEqual(err.details.sort(), [
          'slack.approvers: name at least one approver user or user group',
          'slack.channel: must be a Slack channel ID such as C024BE91L',
          'slack.escalation: name a channel, a user group or both',
          'slack.teamId: must be a Slack team ID such as T0001',
          'slack.userMap.alice: must be a Slack user ID such as U012AB3CD',
        ]);
        return true;
      },
    );
  });

  test('the final deadline may not come before the approval window', () => {
    const raw = rawTestConfig();
    assert.throws(
      () => parseConfig({ ...raw, playbook: { ...(raw.playbook as object), approvalTimeout: '30m', approvalDeadline: '10m' } }, {}),
      /playbook\.approvalDeadline: must not be earlier than playbook\.approvalTimeout/,
    );
  });

  test('the run snapshots the window, the deadline (the window by default), reminders and the two-person rule', () => {
    const raw = rawTestConfig();
    const plain = playbookInput(parseConfig(raw, {}), escalatingAlert()).policy.approval;
    assert.deepEqual(
      [plain.timeoutMs, plain.deadlineMs, plain.reminderIntervalMs, plain.twoPersonIsolation],
      [600_000, 600_000, null, false],
    );
    const tuned = playbookInput(
      parseConfig(
        {
          ...raw,
          playbook: {
            ...(raw.playbook as object),
            approvalTimeout: '30m',
            approvalDeadline: '4h',
            approvalReminderInterval: '10m',
            twoPersonIsolation: true,
          },
        },
        {},
      ),
      escalatingAlert(),
    ).policy.approval;
    assert.deepEqual(
      [tuned.timeoutMs, tuned.deadlineMs, tuned.reminderIntervalMs, tuned.twoPersonIsolation],
      [1_800_000, 14_400_000, 600_000, true],
    );
  });
});
