/**
 * Approvals in Slack, end to end on a real Temporal dev server: the real worker and activities, the real
 * @slack/web-api client pointed at a Slack stand-in on 127.0.0.1, and the real HTTP app. The stand-in also plays the
 * people: it sends correctly signed `block_actions` payloads, and records what the app tells them on `response_url`.
 * The worker caches no workflows, so every workflow task replays its history. Nothing of the project's own is mocked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { exfilToCloudStorage } from '../../workflows';
import { getStateQuery } from '../../workflows/messages';
import { parseConfig } from '../../src/config';
import { DryRunContainment } from '../../src/connectors/dry-run/client';
import type { NormalizedAlert } from '../../src/contracts/alert';
import type { RunState } from '../../src/contracts/playbook';
import { approvalAnswer } from '../../src/format';
import { decideApproval, playbookInput } from '../../src/temporal/playbook-runs';
import { SlackStandIn, textOf, type PostedMessage } from '../fakes/slack';
import { startE2e, type E2e } from '../helpers/e2e';
import { escalatingAlert, unique } from '../helpers/fixtures';
import { eventually } from '../helpers/temporal';

const SOC = 'C0SOC0001';
const ESC = 'C0ESC0001';

describe('approvals in Slack, end to end', () => {
  const slack = new SlackStandIn();
  const secrets = { TEST_SLACK_BOT_TOKEN: slack.token, TEST_SLACK_SIGNING_SECRET: slack.signingSecret };
  let e2e: E2e;

  before(async () => {
    slack.users = {
      U0ALICE01: { name: 'alice', email: 'alice@acme.example' },
      U0BOB0001: { name: 'bob', email: 'Bob@acme.example' },
      U0CAROL01: { name: 'carol' }, // no e-mail: mapped in slack.userMap
      U0JDOE001: { name: 'jdoe', email: 'jdoe@acme.example' }, // the subject, in the approver group
      U0MARIA01: { name: 'maria', email: 'mmanager@acme.example' }, // the subject's manager, in the group
      U0NOMAIL1: { name: 'ghost' }, // in the group, but cannot be matched to a directory user
      U0MALLORY: { name: 'mallory', email: 'mallory@acme.example' }, // not an approver
      U0ERIN001: { name: 'erin', email: 'erin@acme.example' }, // escalation group only
    };
    slack.groups = { S0SOC0001: ['U0BOB0001', 'U0JDOE001', 'U0MARIA01', 'U0NOMAIL1'], S0ESC0001: ['U0ERIN001'] };
    e2e = await startE2e({
      name: 'slack',
      standIns: [slack],
      configure: (raw) => ({
        ...raw,
        // The stand-in's people have e-mails at acme.example: that is the organisation here.
        identity: { domains: ['acme.example'], netbiosNames: ['ACME'] },
        slack: {
          botToken: 'env:TEST_SLACK_BOT_TOKEN',
          signingSecret: 'env:TEST_SLACK_SIGNING_SECRET',
          teamId: slack.teamId,
          appId: slack.appId,
          channel: SOC,
          apiUrl: slack.apiUrl,
          responseUrlPrefix: `${slack.url}/actions/`,
          approvers: { users: ['U0ALICE01', 'U0CAROL01'], userGroups: ['S0SOC0001'] },
          userMap: { U0CAROL01: 'carol' },
          escalation: { channel: ESC, userGroup: 'S0ESC0001' },
        },
      }),
      env: secrets,
      maxCachedWorkflows: 0,
    });
  });

  after(async () => {
    await e2e?.stop();
  });

  /** A run started directly, with playbook settings varied from the suite's configuration. */
  function start(
    playbook: Record<string, unknown> = {},
    alert: NormalizedAlert = escalatingAlert(),
  ): Promise<WorkflowHandle<typeof exfilToCloudStorage>> {
    const variant = parseConfig({ ...e2e.raw, playbook: { ...(e2e.raw.playbook as object), ...playbook } }, secrets);
    return e2e.client.workflow.start(exfilToCloudStorage, {
      taskQueue: e2e.config.temporal.taskQueue,
      workflowId: unique('slack-run'),
      args: [playbookInput(variant, alert)],
    });
  }

  /** The run's approval message as first posted (a copy: later edits replace the buttons). */
  const requestFor = (workflowId: string, channel = SOC) =>
    eventually(
      () => {
        const m = slack.topLevel(channel).find((msg) => textOf(msg.blocks).includes(`workflows/${encodeURIComponent(workflowId)}`));
        return Promise.resolve(m ? structuredClone<PostedMessage>(m) : null);
      },
      30_000,
      `the approval message of ${workflowId} in ${channel}`,
    );

  const current = (m: PostedMessage) => slack.messages.find((x) => x.channel === m.channel && x.ts === m.ts) as PostedMessage;

  /** Clicks and waits for what the app tells the clicker on response_url. */
  async function clickAndHear(click: Parameters<SlackStandIn['click']>[1]): Promise<string> {
    const before = slack.responses.length;
    const res = await slack.click(e2e.base, click);
    assert.equal(res.status, 200, await res.text());
    const heard = await eventually(() => Promise.resolve(slack.responses[before]), 30_000, 'the outcome on response_url');
    assert.equal(heard.response_type, 'ephemeral');
    assert.equal(heard.replace_original, false);
    return heard.text;
  }

  const closed = (handle: WorkflowHandle) => handle.result() as Promise<RunState>;

  async function acceptedUpdates(handle: WorkflowHandle): Promise<number> {
    const history = await handle.fetchHistory();
    return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
  }

  const ledgerKeys = async (workflowId: string) =>
    (await new DryRunContainment(e2e.config.dataDir).entries())
      .map((e) => e.key)
      .filter((k) => k.startsWith(`${workflowId}:`))
      .sort();

  test('an alert from the webhook becomes a Slack message; a signed click approves it and containment is recorded', async () => {
    const alert = {
      alertId: unique('slack-e2e'),
      user: 'jdoe',
      host: 'LAPTOP-JD01',
      srcIp: '10.20.30.40',
      destDomain: 'drоpbox.com', // Cyrillic "о": shown in punycode
      bytesOut: 734003200,
      eventTime: new Date(Date.now() - 3600_000).toISOString(),
      severity: 'high',
      ruleName: 'Upload <!channel> @here <https://evil.example|click me> `code`\n*bold*',
    };
    const posted = await e2e.post('/webhooks/siem/generic', alert);
    assert.equal(posted.status, 202);
    const { workflowId } = (await posted.json()) as { workflowId: string };
    const message = await requestFor(workflowId);

    // The message: evidence, decision, exact actions, the run link, five buttons; untrusted text inert.
    const text = textOf(message.blocks);
    assert.match(text, /xn--drpbox-\w+\.com/);
    assert.ok(!text.includes('drоpbox'), 'the Unicode look-alike is not shown');
    assert.ok(!/<!channel>|<!here>|<https:\/\/evil/.test(text + message.text), 'no mention or link can be injected');
    assert.ok(text.includes('&lt;!channel&gt;') && text.includes('@\u200bhere') && text.includes('&lt;https://evil.example|click me&gt;'));
    assert.ok(!text.includes('`code`') && !text.includes('\n*bold*'), 'no code span or line break escapes the value');
    assert.match(text, /\*revoke-cloud-storage-access\* on account `jdoe` via `dry-run`/);
    assert.match(text, /\*isolate-endpoint\* on device `LAPTOP-JD01` via `dry-run`/);
    assert.match(text, /\*Volume\*\n700\.0 MiB \(35\.0× the daily mean of 20\.0 MiB\)/);
    assert.match(text, /\*Time \(user's zone\)\*\n`[^`]+` `Europe\/Berlin`/);
    assert.match(text, /\*Decision: escalate\*\n• `[^`]*`/);
    assert.match(text, /• \*HR\*: `Jane Doe`, `Finance`, `active`, manager `mmanager`/);
    assert.ok(
      text.includes(`<http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}|Open the run in Temporal>`),
    );
    const buttons = (message.blocks.find((b) => b.type === 'actions')?.elements as { action_id: string }[]).map((b) => b.action_id);
    assert.deepEqual(buttons, ['approve_all', 'approve_revoke', 'approve_isolate', 'deny', 'false_positive']);
    const postCall = slack.calls.find((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args).includes(workflowId));
    assert.equal(postCall?.encoding, 'form');
    assert.equal(postCall?.args.unfurl_links, 'false');

    const waiting: RunState = await e2e.client.workflow.getHandle(workflowId).query(getStateQuery);
    assert.deepEqual(waiting.approval.slack?.message, { channel: SOC, ts: message.ts });
    assert.match(waiting.approval.digest ?? '', /^sha256:[0-9a-f]{64}$/);

    assert.match(await clickAndHear({ user: 'U0ALICE01', message, actionId: 'approve_all' }), /Your decision is recorded: \*approved\*/);
    const result = await closed(e2e.client.workflow.getHandle(workflowId));
    assert.equal(result.outcome, 'containment-simulated');
    assert.deepEqual(result.approval.approvedActions, ['revoke-cloud-storage-access', 'isolate-endpoint']);
    const [record] = result.approval.decisions;
    assert.equal(result.approval.decisions.length, 1);
    assert.deepEqual(
      { ...record, at: undefined, slack: { ...record?.slack, actionTs: undefined } },
      {
        requestId: waiting.approval.requestId,
        decision: 'approve',
        actions: ['revoke-cloud-storage-access', 'isolate-endpoint'],
        approver: 'U0ALICE01',
        approverName: 'alice',
        via: 'slack',
        at: undefined,
        comment: null,
        digest: waiting.approval.digest,
        slack: {
          teamId: slack.teamId,
          channelId: SOC,
          messageTs: message.ts,
          userId: 'U0ALICE01',
          userName: 'alice',
          actionId: 'approve_all',
          actionTs: undefined,
        },
      },
    );
    assert.deepEqual(await ledgerKeys(workflowId), [`${workflowId}:isolate-endpoint`, `${workflowId}:revoke-cloud-storage-access`]);

    // The same message was edited as the run moved on, and progress was posted in its thread.
    const edited = await eventually(
      () => Promise.resolve(current(message).edits.length >= 2 ? current(message) : null),
      15_000,
      'the message to be edited twice',
    );
    assert.match(textOf(edited.edits[0]?.blocks ?? []), /Approved\* by <@U0ALICE01>/);
    assert.match(textOf(edited.blocks), /Containment finished\*\n• revoke-cloud-storage-access on `jdoe` via `dry-run`: \*simulated\*/);
    assert.ok(!edited.blocks.some((b) => b.type === 'actions'), 'no buttons remain once decided');
    const thread = slack.thread(message).map((m) => m.text);
    assert.ok(thread.some((t) => t.includes('*Approved* by <@U0ALICE01>')));
    assert.ok(thread.some((t) => t.includes('Containment finished')));
  });

  test('the validator refuses non-approvers, the subject, the manager, unmatched users and stale or tampered buttons; the run keeps waiting', async () => {
    const handle = await start();
    const message = await requestFor(handle.workflowId);
    const state = await handle.query(getStateQuery);
    const button = JSON.parse(String((message.blocks.find((b) => b.type === 'actions')?.elements as { value: string }[])[0]?.value));
    const refused: [Parameters<SlackStandIn['click']>[1], RegExp][] = [
      [{ user: 'U0MALLORY', message, actionId: 'approve_all' }, /Not accepted: <@U0MALLORY> is not an authorised approver\./],
      [
        { user: 'U0JDOE001', message, actionId: 'approve_all' },
        /Not accepted: <@U0JDOE001> \(jdoe\) is the subject of this alert and may not decide on it\./,
      ],
      [{ user: 'U0JDOE001', message, actionId: 'false_positive' }, /is the subject of this alert/],
      [{ user: 'U0MARIA01', message, actionId: 'deny' }, /<@U0MARIA01> \(mmanager\) is the manager of the alert's subject/],
      [{ user: 'U0NOMAIL1', message, actionId: 'approve_all' }, /<@U0NOMAIL1> cannot be matched to a directory user/],
      [{ user: 'U0ERIN001', message, actionId: 'approve_all' }, /<@U0ERIN001> may decide only once the request has been escalated/],
      [
        { user: 'U0ALICE01', message, actionId: 'approve_all', value: JSON.stringify({ ...button, r: '4b0e1e84-older-request' }) },
        /This approval request is not the current one; it authorises nothing\./,
      ],
      [
        { user: 'U0ALICE01', message, actionId: 'approve_all', value: JSON.stringify({ ...button, d: `sha256:${'0'.repeat(64)}` }) },
        /digest mismatch/,
      ],
      [
        { user: 'U0ALICE01', message: { ...message, ts: '1700000000.000001' }, actionId: 'approve_all' },
        /not on this run's current approval message/,
      ],
    ];
    for (const [click, expected] of refused) assert.match(await clickAndHear(click), expected);

    const still = await handle.query(getStateQuery);
    assert.equal(still.approval.status, 'pending');
    assert.equal(still.approval.requestId, state.approval.requestId);
    assert.deepEqual(still.approval.decisions, []);
    assert.equal(await acceptedUpdates(handle), 0, 'rejected Updates write nothing to history');
    assert.equal(current(message).edits.length, 0);

    // The CLI path keeps the same rules.
    assert.match(await clickAndHear({ user: 'U0BOB0001', message, actionId: 'deny' }), /recorded: \*denied\*/);
    const result = await closed(handle);
    assert.equal(result.outcome, 'denied');
    assert.equal(result.approval.decisions[0]?.approverName, 'bob');
    assert.deepEqual(await ledgerKeys(handle.workflowId), []);
  });

  test('"Release containment" on the contained message: the CLI rules decide (not the subject, not the manager), an approver releases once', async () => {
    const handle = await start({ containment: { releaseWindow: '10m' } });
    const message = await requestFor(handle.workflowId);
    assert.match(await clickAndHear({ user: 'U0ALICE01', message, actionId: 'approve_all' }), /recorded: \*approved\*/);
    await eventually(async () => (await handle.query(getStateQuery)).stage === 'contained', 60_000, 'the hold');
    const contained = await eventually(
      () => Promise.resolve(current(message).blocks.some((b) => b.block_id === 'soar_release') ? current(message) : null),
      30_000,
      'the Release button on the contained message',
    );
    assert.match(textOf(contained.blocks), /Containment finished/);
    assert.match(
      await clickAndHear({ user: 'U0JDOE001', message: contained, actionId: 'release_containment' }),
      /Not accepted: <@U0JDOE001> \(jdoe\) is the subject of this alert and may not decide on it\./,
    );
    assert.match(
      await clickAndHear({ user: 'U0MARIA01', message: contained, actionId: 'release_containment' }),
      /Not accepted: <@U0MARIA01> \(mmanager\) is the manager of the alert's subject/,
    );
    assert.match(
      await clickAndHear({ user: 'U0MALLORY', message: contained, actionId: 'release_containment' }),
      /is not an authorised approver/,
    );
    assert.equal((await handle.query(getStateQuery)).release.status, 'not-requested');
    assert.match(
      await clickAndHear({ user: 'U0BOB0001', message: contained, actionId: 'release_containment' }),
      /Release recorded: \*released\* \(.*lift-endpoint-isolation: simulated|Release accepted/,
    );
    const result = await closed(handle);
    assert.equal(result.release.status, 'released');
    assert.equal(result.release.via, 'slack');
    assert.ok(result.release.results.length > 0);
    assert.match(
      await clickAndHear({ user: 'U0ALICE01', message: contained, actionId: 'release_containment' }),
      /Not accepted: this run no longer holds a containment\./,
    );
  });

  test('a double click decides once', async () => {
    const handle = await start();
    const message = await requestFor(handle.workflowId);
    const before = slack.responses.length;
    const [a, b] = await Promise.all([
      slack.click(e2e.base, { user: 'U0ALICE01', message, actionId: 'approve_all', actionTs: '1764300000.000001' }),
      slack.click(e2e.base, { user: 'U0ALICE01', message, actionId: 'approve_all', actionTs: '1764300000.000002' }),
    ]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    const heard = await eventually(
      () =>
        Promise.resolve(
          slack.responses.length >= before + 2
            ? slack.responses
                .slice(before)
                .map((r) => r.text)
                .sort()
            : null,
        ),
      30_000,
      'both outcomes',
    );
    assert.match(heard.join('\n'), /No approval is pending on this run \(approval is approved\)|has already approved/);
    assert.equal(heard.filter((t) => t.includes('Your decision is recorded')).length, 1);
    const result = await closed(handle);
    assert.equal(result.approval.decisions.length, 1);
    assert.equal(await acceptedUpdates(handle), 1);
    assert.deepEqual(await ledgerKeys(handle.workflowId), [
      `${handle.workflowId}:isolate-endpoint`,
      `${handle.workflowId}:revoke-cloud-storage-access`,
    ]);
  });

  test('an unanswered request expires at the deadline, the message says so, nothing is contained, and a later click authorises nothing', async () => {
    const handle = await start({ approvalTimeout: '3s' });
    const message = await requestFor(handle.workflowId);
    const result = await closed(handle);
    assert.equal(result.approval.status, 'expired');
    assert.equal(result.outcome, 'approval-expired');
    assert.deepEqual(result.containment, []);
    const edited = await eventually(() => Promise.resolve(current(message).edits.length ? current(message) : null), 15_000, 'the edit');
    assert.match(textOf(edited.blocks), /\*Expired\* at `[^`]+` with no decision\. No containment was performed\./);
    assert.ok(!edited.blocks.some((b) => b.type === 'actions'));
    assert.match(
      await clickAndHear({ user: 'U0ALICE01', message, actionId: 'approve_all' }),
      /Not accepted: this run no longer waits for a decision\./,
    );
    assert.deepEqual(await ledgerKeys(handle.workflowId), []);
  });

  test('reminders go to the thread, the request escalates after the window, and the escalation group may then decide', async () => {
    const handle = await start({ approvalTimeout: '3s', approvalDeadline: '40s', approvalReminderInterval: '1s' });
    const message = await requestFor(handle.workflowId);
    const escalation = await requestFor(handle.workflowId, ESC);
    assert.match(textOf(escalation.blocks), /<!subteam\^S0ESC0001> :rotating_light: \*Escalated\*/);
    // The note in the original thread follows the escalation post; the run records the message once both are done.
    const thread = await eventually(
      () => {
        const texts = slack.thread(message).map((m) => m.text);
        return Promise.resolve(texts.some((t) => t.includes(`Escalated to <#${ESC}> and <!subteam^S0ESC0001>`)) ? texts : null);
      },
      15_000,
      'the escalation note in the thread',
    );
    assert.ok(
      thread.some((t) => /^:alarm_clock: Reminder 1: this approval is still waiting, escalates at/.test(t)),
      thread.join('\n'),
    );
    const state = await eventually(
      async () => {
        const s = await handle.query(getStateQuery);
        return s.approval.slack?.escalationMessage ? s : null;
      },
      15_000,
      'the escalation message in the run',
    );
    assert.ok(state.approval.escalatedAt !== null && state.approval.remindersSent >= 2, JSON.stringify(state.approval));
    assert.deepEqual(state.approval.slack?.escalationMessage, { channel: ESC, ts: escalation.ts });

    assert.match(await clickAndHear({ user: 'U0ERIN001', message: escalation, actionId: 'approve_revoke' }), /recorded: \*approved\*/);
    const result = await closed(handle);
    assert.deepEqual(result.approval.approvedActions, ['revoke-cloud-storage-access']);
    assert.deepEqual(
      result.containment.map((c) => c.action),
      ['revoke-cloud-storage-access'],
    );
    assert.equal(result.approval.decisions[0]?.slack?.messageTs, escalation.ts);
    // Both messages show the outcome.
    await eventually(
      () => Promise.resolve(current(message).edits.length >= 2 && current(escalation).edits.length >= 2),
      15_000,
      'both messages edited',
    );
  });

  test('with the two-person rule, isolation needs a second, different approver', async () => {
    const handle = await start({ twoPersonIsolation: true });
    const message = await requestFor(handle.workflowId);
    assert.match(textOf(message.blocks), /Endpoint isolation needs approvals from two different approvers/);
    assert.match(await clickAndHear({ user: 'U0ALICE01', message, actionId: 'approve_all' }), /waits for a second, different approver/);
    const half = await handle.query(getStateQuery);
    assert.equal(half.approval.status, 'pending');
    assert.equal(half.approval.awaitingSecondApproval, true);
    await eventually(() => Promise.resolve(current(message).edits.length === 1), 15_000, 'the edit after the first approval');
    assert.match(textOf(current(message).blocks), /endpoint isolation waits for a second, different approver/);
    assert.ok(
      current(message).blocks.some((b) => b.type === 'actions'),
      'the buttons stay for the second approver',
    );

    assert.match(
      await clickAndHear({ user: 'U0ALICE01', message, actionId: 'approve_isolate' }),
      /<@U0ALICE01> \(alice\) has already approved; the second approval must come from a different approver\./,
    );
    assert.match(await clickAndHear({ user: 'U0BOB0001', message, actionId: 'approve_isolate' }), /recorded: \*approved\*/);
    const result = await closed(handle);
    assert.deepEqual(result.approval.approvedActions, ['revoke-cloud-storage-access', 'isolate-endpoint']);
    assert.deepEqual(
      result.approval.decisions.map((d) => [d.approverName, d.actions]),
      [
        ['alice', ['revoke-cloud-storage-access', 'isolate-endpoint']],
        ['bob', ['isolate-endpoint']],
      ],
    );
    assert.equal(result.outcome, 'containment-simulated');
  });

  test('"mark false positive" closes the run without containment, recorded apart from a denial', async () => {
    const handle = await start();
    const message = await requestFor(handle.workflowId);
    assert.match(await clickAndHear({ user: 'U0CAROL01', message, actionId: 'false_positive' }), /recorded: \*false-positive\*/);
    const result = await closed(handle);
    assert.equal(result.approval.status, 'false-positive');
    assert.equal(result.outcome, 'false-positive');
    assert.equal(result.approval.decisions[0]?.approverName, 'carol');
    assert.deepEqual(result.containment, []);
    assert.deepEqual(await ledgerKeys(handle.workflowId), []);
    await eventually(
      () => Promise.resolve(/Marked false positive\* by <@U0CAROL01>/.test(textOf(current(message).blocks))),
      15_000,
      'the edit',
    );
  });

  test('Slack rate limiting (429 Retry-After) delays the post by what Slack asked, then it goes through', async () => {
    const alert = escalatingAlert();
    slack.failNext('chat.postMessage', alert.alertId, {
      status: 429,
      headers: { 'retry-after': '3' },
      body: { ok: false, error: 'ratelimited' },
    });
    const handle = await start({}, alert);
    const message = await requestFor(handle.workflowId);
    const posts = slack.calls.filter((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args).includes(alert.alertId));
    assert.equal(posts.length, 2);
    const gap = (posts[1]?.at ?? 0) - (posts[0]?.at ?? 0);
    assert.ok(gap >= 2900, `retried after ${gap} ms, not after Slack's 3 s`);
    assert.ok(gap < 15_000, `retried after ${gap} ms`);
    assert.deepEqual((await handle.query(getStateQuery)).approval.slack?.message, { channel: SOC, ts: message.ts });
    await handle.terminate('test done');
  });

  test('Slack down while posting (HTTP 503, then ok:false internal_error) is retried until the message is posted', async () => {
    const alert = escalatingAlert();
    slack.failNext(
      'chat.postMessage',
      alert.alertId,
      { status: 503, body: 'upstream unavailable' },
      { status: 200, body: { ok: false, error: 'internal_error' } },
    );
    const handle = await start({}, alert);
    const message = await requestFor(handle.workflowId);
    const posts = slack.calls.filter((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args).includes(alert.alertId));
    assert.equal(posts.length, 3);
    const state = await handle.query(getStateQuery);
    assert.equal(state.approval.notifiedVia, 'slack');
    assert.equal(state.approval.notifyError, null);
    assert.deepEqual(state.approval.slack?.message, { channel: SOC, ts: message.ts });
    await handle.terminate('test done');
  });

  test('a permanent Slack error (invalid_auth) is recorded, the run still fails closed at the deadline', async () => {
    const alert = escalatingAlert();
    slack.failNext('chat.postMessage', alert.alertId, { status: 200, body: { ok: false, error: 'invalid_auth' } });
    const handle = await start({ approvalTimeout: '3s' }, alert);
    const result = await closed(handle);
    assert.equal(result.approval.notifiedVia, null);
    assert.equal(result.approval.notifyError, "slack: chat.postMessage: invalid_auth (check the bot token and the app's scopes)");
    assert.equal(result.outcome, 'approval-expired');
    assert.deepEqual(result.containment, []);
  });

  /** A generic webhook body for an escalating alert about the subject, written as a SIEM would write it. */
  const webhookAlert = (user: string) => {
    const { source: _source, raw: _raw, ...body } = escalatingAlert({ alertId: unique('identity'), user });
    return body;
  };

  for (const form of ['JDoe', 'jdoe@acme.example', 'ACME\\jdoe', ' acme.example\\JDOE ']) {
    test(`an alert whose user is ${JSON.stringify(form)}: the subject's and the manager's clicks are refused, an unrelated approver's is accepted`, async () => {
      const posted = await e2e.post('/webhooks/siem/generic', webhookAlert(form));
      assert.equal(posted.status, 202);
      const { workflowId, joined } = (await posted.json()) as { workflowId: string; joined: boolean };
      assert.equal(joined, false);
      const message = await requestFor(workflowId);
      const handle = e2e.client.workflow.getHandle(workflowId);

      // A second alert about the same person, in yet another form, joins the same case.
      const again = await e2e.post('/webhooks/siem/generic', webhookAlert('ACME\\JDoe'));
      assert.deepEqual(await again.json(), { workflowId, duplicate: false, joined: true });
      // Its volume re-binds the waiting request (docs/slack.md): the message is updated, and clicks are on that version.
      const rebound = await eventually(
        () => Promise.resolve(current(message).edits.length > 0 ? structuredClone<PostedMessage>(current(message)) : null),
        30_000,
        'the re-bound message',
      );
      assert.match(
        await clickAndHear({ user: 'U0BOB0001', message, actionId: 'false_positive' }),
        /Not accepted: This button shows an earlier version of the request, re-bound at .* joined the case with 700\.0 MiB more/,
      );

      assert.match(
        await clickAndHear({ user: 'U0JDOE001', message: rebound, actionId: 'false_positive' }),
        /Not accepted: <@U0JDOE001> \(jdoe\) is the subject of this alert and may not decide on it\./,
      );
      assert.match(
        await clickAndHear({ user: 'U0MARIA01', message: rebound, actionId: 'deny' }),
        /Not accepted: <@U0MARIA01> \(mmanager\) is the manager of the alert's subject and may not decide on it\./,
      );
      const waiting = await handle.query(getStateQuery);
      assert.equal(waiting.approval.status, 'pending');
      assert.deepEqual(waiting.approval.decisions, []);
      // The run decides on the canonical identity and keeps the SIEM's form as evidence.
      assert.equal(waiting.alert.user, 'jdoe');
      assert.equal(waiting.alert.userAsSent, form.trim() === 'jdoe' ? undefined : form.trim());
      assert.equal(waiting.enrichment.hr?.status, 'ok');

      assert.match(await clickAndHear({ user: 'U0BOB0001', message: rebound, actionId: 'false_positive' }), /recorded: \*false-positive\*/);
      const result = (await handle.result()) as RunState;
      assert.equal(result.outcome, 'false-positive');
      assert.equal(result.approval.decisions[0]?.approverName, 'bob');
      assert.equal(result.alerts.length, 2);
      assert.match(result.report?.markdown ?? '', new RegExp(`sent as \`${form.trim().replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}\``));
    });
  }

  test('the CLI path reads --as in any form: the manager as ACME\\mmanager is refused, a listed approver as alice@acme.example is accepted', async () => {
    const handle = await start();
    await requestFor(handle.workflowId);
    await assert.rejects(
      decideApproval(e2e.client, handle.workflowId, { decision: 'deny', approver: 'ACME\\mmanager', via: 'cli' }),
      (err: Error) =>
        /ACME\\mmanager \(mmanager\) is the manager of the alert's subject and may not decide on it\./.test(
          (err.cause as Error | undefined)?.message ?? err.message,
        ),
    );
    const approval = await decideApproval(e2e.client, handle.workflowId, { decision: 'deny', approver: 'alice@acme.example', via: 'cli' });
    assert.equal(approval.status, 'denied');
    assert.equal(approval.decisions[0]?.approverName, 'alice');
    assert.equal((await closed(handle)).outcome, 'denied');
  });

  test('an alert whose HR record is missing cannot be decided by one approver: every decision needs two different ones', async () => {
    const posted = await e2e.post('/webhooks/siem/generic', webhookAlert('ACME\\nohr.user'));
    assert.equal(posted.status, 202);
    const { workflowId } = (await posted.json()) as { workflowId: string };
    const handle = e2e.client.workflow.getHandle(workflowId);
    const message = await requestFor(workflowId);
    // Said in the request itself, before anyone clicks.
    assert.match(
      textOf(message.blocks),
      /HR has no record of nohr\.user \([^)]*\), so nobody can be shown not to be the subject's manager: every decision \(approve, deny, false positive\) needs two different approvers/,
    );

    // The first deny is recorded, decides nothing, and says what waits and why.
    assert.match(
      await clickAndHear({ user: 'U0BOB0001', message, actionId: 'deny' }),
      /Your decision is recorded; it waits for a second, different approver: HR has no record of nohr\.user/,
    );
    const half = await handle.query(getStateQuery);
    assert.equal(half.approval.status, 'pending');
    assert.equal(half.approval.awaitingSecondApproval, true);
    assert.match(
      approvalAnswer(workflowId, half.approval),
      /: pending: the denial by bob \(via slack\) at \S+ is recorded and waits for a second, different approver \(HR has no record/,
    );
    await eventually(() => Promise.resolve(current(message).edits.length === 1), 15_000, 'the edit after the first decision');
    assert.match(textOf(current(message).blocks), /Denied by <@U0BOB0001>; this waits for a second, different approver/);

    // The same person cannot be the second; nor does one approval contain anything.
    assert.match(
      await clickAndHear({ user: 'U0BOB0001', message, actionId: 'false_positive' }),
      /Not accepted: <@U0BOB0001> \(bob\) has already decided on this request; HR has no record of nohr\.user .* needs two different approvers, so the second must come from someone else\./,
    );
    assert.match(await clickAndHear({ user: 'U0ALICE01', message, actionId: 'approve_all' }), /waits for a second, different approver/);
    assert.equal((await handle.query(getStateQuery)).approval.status, 'pending');

    // A second, different approver agreeing with the first decides.
    assert.match(await clickAndHear({ user: 'U0CAROL01', message, actionId: 'deny' }), /recorded: \*denied\*/);
    const result = (await handle.result()) as RunState;
    assert.equal(result.outcome, 'denied');
    assert.deepEqual(
      result.approval.decisions.map((d) => [d.approverName, d.decision]),
      [
        ['bob', 'deny'],
        ['alice', 'approve'],
        ['carol', 'deny'],
      ],
    );
    assert.deepEqual(await ledgerKeys(workflowId), []);
  });
});
