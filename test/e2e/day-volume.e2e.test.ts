/**
 * The volume rule on the day's total, end to end on a real Temporal dev server through the webhook (volume rule /2):
 * small uploads that each stay under the floor add up, case after case, until the day's total escalates; and an
 * alert that joins a case waiting for approval re-binds the Slack request to the new total. The real worker, the
 * file baseline source with the alerts recorded in Temporal, the real HTTP app and the real @slack/web-api client
 * against the Slack stand-in. Nothing of the project's own is mocked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunState } from '../../src/contracts/playbook';
import { decideApproval } from '../../src/temporal/playbook-runs';
import { TemporalRecordedUploads } from '../../src/temporal/recorded-uploads';
import { SlackStandIn, textOf, type PostedMessage } from '../fakes/slack';
import { startE2e, type E2e } from '../helpers/e2e';
import { MiB, unique } from '../helpers/fixtures';
import { eventually } from '../helpers/temporal';

const SOC = 'C0SOC0001';

describe("the day's uploads against the daily baseline, end to end", () => {
  const slack = new SlackStandIn();
  const secrets = { TEST_SLACK_BOT_TOKEN: slack.token, TEST_SLACK_SIGNING_SECRET: slack.signingSecret };
  let e2e: E2e;

  before(async () => {
    slack.users = { U0ALICE01: { name: 'alice', email: 'alice@acme.example' } };
    e2e = await startE2e({
      name: 'day-volume',
      standIns: [slack],
      configure: (raw) => ({
        ...raw,
        identity: { domains: ['acme.example'], netbiosNames: ['ACME'] },
        slack: {
          botToken: 'env:TEST_SLACK_BOT_TOKEN',
          signingSecret: 'env:TEST_SLACK_SIGNING_SECRET',
          teamId: slack.teamId,
          appId: slack.appId,
          channel: SOC,
          apiUrl: slack.apiUrl,
          responseUrlPrefix: `${slack.url}/actions/`,
          approvers: { users: ['U0ALICE01'], userGroups: [] },
        },
      }),
      env: secrets,
      maxCachedWorkflows: 0,
    });
  });

  after(async () => {
    await e2e?.stop();
  });

  /** An alert as the generic webhook takes it. */
  const alertBody = (overrides: Record<string, unknown>) => ({
    alertId: unique('day'),
    user: 'jdoe',
    host: 'LAPTOP-JD01',
    srcIp: '10.20.30.40',
    destDomain: 'acme.sharepoint.com',
    bytesOut: 15 * MiB,
    eventTime: '2026-11-24T09:00:00.000Z',
    severity: 'low',
    ruleName: 'Upload to cloud storage',
    ...overrides,
  });

  async function postAlert(body: Record<string, unknown>): Promise<{ workflowId: string; joined?: boolean }> {
    const res = await e2e.post('/webhooks/siem/generic', body);
    assert.equal(res.status, 202, await res.clone().text());
    return (await res.json()) as { workflowId: string; joined?: boolean };
  }

  const runUntil = (workflowId: string, done: (run: RunState) => boolean, what: string) =>
    eventually(
      async () => {
        const run = await e2e.run(workflowId);
        return done(run) ? run : null;
      },
      60_000,
      what,
    );

  /** Waits until Temporal's visibility lists the closed case with its uploads (eventually consistent). */
  const listed = (workflowId: string) =>
    eventually(
      async () => {
        for await (const run of e2e.client.workflow.list({ query: TemporalRecordedUploads.query('jdoe', '2026-11-23T23:00:00.000Z') })) {
          if (run.workflowId === workflowId && run.status.name === 'COMPLETED' && Array.isArray(run.memo?.uploads)) return true;
        }
        return null;
      },
      30_000,
      `${workflowId} in visibility`,
    );

  test("small uploads, each under the floor and each its own benign case, add up until the day's total escalates", async () => {
    // jdoe: about 20 MiB a day over 30 days (sd about 2 MiB); Tuesday 10:00 in Berlin, to the approved tenant.
    const outcomes: string[] = [];
    let last: RunState | null = null;
    for (let i = 0; i < 4; i++) {
      const eventTime = new Date(Date.parse('2026-11-24T09:00:00.000Z') + i * 10 * 60_000).toISOString();
      const { workflowId } = await postAlert(alertBody({ eventTime }));
      last = await runUntil(
        workflowId,
        (run) => run.decision !== null && run.stage !== 'enriching' && run.stage !== 'deciding',
        `the decision of upload ${i + 1}`,
      );
      outcomes.push(last.decision?.outcome ?? 'none');
      if (last.decision?.outcome !== 'escalate') {
        await runUntil(workflowId, (run) => run.status === 'closed', `case ${i + 1} to close`);
        await listed(workflowId);
      }
    }
    assert.deepEqual(outcomes, ['benign', 'benign', 'benign', 'escalate']);
    const decision = last?.decision;
    assert.equal(decision?.ruleVersion, 't1567.002-rules/2');
    assert.deepEqual(decision?.triggeredBy, ['volume-out-of-norm']);
    const volume = decision?.rules.find((r) => r.rule === 'volume-out-of-norm');
    assert.equal(volume?.inputs.bytesOut, 15 * MiB);
    assert.equal(volume?.inputs.dayPriorBytes, 45 * MiB, 'the three earlier cases, recorded in Temporal');
    assert.equal(volume?.inputs.dayBytes, 60 * MiB);
    assert.equal(volume?.inputs.day, '2026-11-24');
    assert.equal(volume?.inputs.timezone, 'Europe/Berlin');
    assert.equal(volume?.inputs.firedOn, 'day');
    assert.match(
      volume?.explanation ?? '',
      /^This upload: 15\.0 MiB, under the 50\.0 MiB floor\. The day so far \(2026-11-24, Europe\/Berlin\): 60\.0 MiB/,
    );
    assert.deepEqual(last?.volume && { ...last.volume, updatedAt: undefined }, {
      day: '2026-11-24',
      timezone: 'Europe/Berlin',
      priorBytes: 45 * MiB,
      caseBytes: 15 * MiB,
      caseUploads: 1,
      dayBytes: 60 * MiB,
      updatedAt: undefined,
    });
  });

  test('an alert that joins a case waiting for approval re-binds the request: new total, old buttons refused, message updated', async () => {
    // Saturday 02:14 in Berlin, 700 MiB to Dropbox: escalates on its own.
    const opening = alertBody({ destDomain: 'dropbox.com', bytesOut: 700 * MiB, eventTime: '2026-11-28T01:14:00.000Z', severity: 'high' });
    const { workflowId } = await postAlert(opening);
    const waiting = await runUntil(
      workflowId,
      (run) => run.approval.status === 'pending' && run.approval.slack?.message != null,
      'the request',
    );
    const oldDigest = waiting.approval.digest ?? '';
    assert.equal(waiting.volume?.dayBytes, 700 * MiB);
    const message = await eventually(
      () => Promise.resolve(slack.topLevel(SOC).find((m) => textOf(m.blocks).includes(encodeURIComponent(workflowId))) ?? null),
      30_000,
      'the approval message',
    );
    const shown = structuredClone<PostedMessage>(message);
    assert.match(textOf(shown.blocks), /day so far 700\.0 MiB \([\d.]+×\) on `2026-11-28`, 1 upload\(s\) in this case/);

    const joined = await postAlert({ ...opening, alertId: unique('join'), bytesOut: 300 * MiB, eventTime: '2026-11-28T01:20:00.000Z' });
    assert.equal(joined.workflowId, workflowId);
    const rebound = await runUntil(workflowId, (run) => run.approval.digest !== oldDigest, 'the request to be re-bound');
    assert.equal(rebound.approval.status, 'pending');
    assert.equal(rebound.volume?.dayBytes, 1000 * MiB);
    assert.equal(rebound.volume?.caseUploads, 2);
    assert.equal(rebound.approval.superseded?.[0]?.digest, oldDigest);
    assert.match(rebound.approval.superseded?.[0]?.reason ?? '', /joined the case with 300\.0 MiB more/);

    // The message was edited in place (chat.update): the new total, and buttons that carry the new digest.
    const edited = await eventually(
      () => Promise.resolve(slack.messages.find((m) => m.ts === message.ts && m.edits.length > 0) ?? null),
      30_000,
      'the message to be updated',
    );
    const text = textOf(edited.blocks);
    assert.match(text, /day so far 1000\.0 MiB \([\d.]+×\) on `2026-11-28`, 2 upload\(s\) in this case/);
    assert.match(text, /\*Updated\*: `alert [^`]+ from generic joined the case with 300\.0 MiB more`; the day's total is now 1000\.0 MiB/);
    assert.ok(slack.calls.some((c) => c.method === 'chat.update' && JSON.stringify(c.args).includes(message.ts)));
    const newButton = JSON.parse(String((edited.blocks.find((b) => b.type === 'actions')?.elements as { value: string }[])[0]?.value));
    assert.equal(newButton.d, rebound.approval.digest);

    // A click on the message as first shown (the old digest) is refused with the reason; the updated one is accepted.
    const hear = async (click: Parameters<SlackStandIn['click']>[1]) => {
      const before = slack.responses.length;
      const res = await slack.click(e2e.base, click);
      assert.equal(res.status, 200);
      return (await eventually(() => Promise.resolve(slack.responses[before]), 30_000, 'the answer on response_url')).text;
    };
    assert.match(
      await hear({ user: 'U0ALICE01', message: shown, actionId: 'deny' }),
      /Not accepted: This button shows an earlier version of the request, re-bound at .* because alert .* joined the case with 300\.0 MiB more; it authorises nothing\. Decide on the updated message\./,
    );
    assert.equal((await e2e.run(workflowId)).approval.status, 'pending');
    assert.match(await hear({ user: 'U0ALICE01', message: edited, actionId: 'deny' }), /Your decision is recorded: \*denied\*/);
    const closed = await runUntil(workflowId, (run) => run.status === 'closed', 'the case to close');
    assert.equal(closed.outcome, 'denied');
    assert.equal(closed.approval.decisions[0]?.digest, rebound.approval.digest);
  });

  test('a join voids a first approval of a two-approver request: the re-bound request needs both approvers again', async () => {
    // A subject unknown to HR: every decision needs two different approvers (the manager is unknown).
    const opening = alertBody({
      user: 'unlisted.contractor',
      destDomain: 'dropbox.com',
      bytesOut: 700 * MiB,
      eventTime: '2026-11-28T01:14:00.000Z',
      severity: 'high',
    });
    const { workflowId } = await postAlert(opening);
    await runUntil(workflowId, (run) => run.approval.status === 'pending' && run.approval.notifiedVia !== null, 'the request');
    const first = await decideApproval(e2e.client, workflowId, { decision: 'approve', approver: 'alice', via: 'cli' });
    assert.equal(first.status, 'pending');
    assert.equal(first.awaitingSecondApproval, true);
    assert.equal(first.decisions.length, 1);
    const oldDigest = first.digest;

    const joined = await postAlert({ ...opening, alertId: unique('join'), bytesOut: 300 * MiB, eventTime: '2026-11-28T01:20:00.000Z' });
    assert.equal(joined.workflowId, workflowId);
    const rebound = await runUntil(workflowId, (run) => run.approval.digest !== oldDigest, 'the request to be re-bound');
    assert.equal(rebound.approval.status, 'pending');
    assert.deepEqual(rebound.approval.decisions, [], 'the first approval authorised the earlier total only');
    assert.equal(rebound.approval.voidedDecisions?.[0]?.approver, 'alice');
    assert.equal(rebound.approval.awaitingSecondApproval, false);

    // One approval of the re-bound request is not enough: it waits for a second, different approver.
    const second = await decideApproval(e2e.client, workflowId, { decision: 'approve', approver: 'bob', via: 'cli' });
    assert.equal(second.status, 'pending');
    assert.equal(second.awaitingSecondApproval, true);
    const third = await decideApproval(e2e.client, workflowId, { decision: 'approve', approver: 'alice', via: 'cli' });
    assert.equal(third.status, 'approved');
    assert.deepEqual(
      third.decisions.map((d) => d.approver),
      ['bob', 'alice'],
    );
  });
});
