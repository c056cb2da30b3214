/**
 * The channel-neutral identity rules, the Slack and CLI claimants that feed them (one row per rule and boundary), and
 * the same rules applied to a release or a confirmation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  ApprovalRecord,
  ApprovalState,
  ContainmentReviewInput,
  PlaybookInput,
  RunState,
  SlackApprover,
  SlackDecisionContext,
} from '../../src/contracts/playbook';
import { checkApprover, cliClaimant, type ApproverCase, type ApproverVerdict, type Claimant } from '../../workflows/approvers';
import { approvalAnswer } from '../../src/format';
import { DEFAULT_DECISION_POLICY } from '../../workflows/decide';
import { slackClaimant, type SlackClick } from '../../workflows/slack-clicks';
import { NO_APPROVAL } from '../../workflows/steps/approval';
import { LEGACY_CONTAINMENT_POLICY } from '../../workflows/steps/containment';
import { checkReviewer, NO_LEASE, NO_RELEASE } from '../../workflows/steps/release';
import { escalatingAlert, fixtureData } from '../helpers/fixtures';

const kase: ApproverCase = { subject: 'jdoe', manager: 'mmanager', escalated: false, approvedBy: [] };
const cli = (approver: string): Claimant => cliClaimant([{ id: 'alice' }, { id: 'Bob' }, { id: 'jdoe' }, { id: 'mmanager' }], approver);
const slackUser = (userId: string, name: string | null, escalationOnly = false): Claimant => ({
  handle: `<@${userId}>`,
  showName: true,
  entry: { name, escalationOnly },
  howToMap: 'map them in slack.userMap',
});

interface Row {
  name: string;
  claimant: Claimant;
  kase?: Partial<ApproverCase>;
  verdict: ApproverVerdict;
}

const rows: Row[] = [
  // 1. Authorised: on the roster.
  { name: 'a listed CLI approver may decide', claimant: cli('alice'), verdict: { allowed: true, name: 'alice' } },
  { name: 'CLI IDs are compared without case', claimant: cli('BOB'), verdict: { allowed: true, name: 'bob' } },
  {
    name: 'someone not on the roster is not an authorised approver, named as they typed it',
    claimant: cli('Mallory'),
    verdict: { allowed: false, name: null, rule: 'authorised', reason: 'Mallory is not an authorised approver.' },
  },
  {
    name: 'a Slack user not in the snapshot is named by mention only',
    claimant: { ...slackUser('U0MALLORY', 'mallory'), entry: null },
    verdict: { allowed: false, name: null, rule: 'authorised', reason: '<@U0MALLORY> is not an authorised approver.' },
  },
  // 2. The escalation group waits for the escalation.
  {
    name: 'a member of the escalation group may not decide before the request escalates',
    claimant: slackUser('U0ERIN001', 'erin', true),
    verdict: { allowed: false, name: null, rule: 'escalated', reason: '<@U0ERIN001> may decide only once the request has been escalated.' },
  },
  {
    name: 'a member of the escalation group may decide once the request has escalated',
    claimant: slackUser('U0ERIN001', 'erin', true),
    kase: { escalated: true },
    verdict: { allowed: true, name: 'erin' },
  },
  // 3. A directory user to compare with.
  {
    name: 'someone with no directory user may not decide, and the channel says how to map them',
    claimant: slackUser('U0NOMAIL1', null),
    verdict: {
      allowed: false,
      name: null,
      rule: 'directory-user',
      reason: '<@U0NOMAIL1> cannot be matched to a directory user, so they may not decide (map them in slack.userMap).',
    },
  },
  {
    name: 'without a mapping hint the refusal ends at the rule',
    claimant: { ...slackUser('U0NOMAIL1', null), howToMap: undefined },
    verdict: {
      allowed: false,
      name: null,
      rule: 'directory-user',
      reason: '<@U0NOMAIL1> cannot be matched to a directory user, so they may not decide.',
    },
  },
  // 4. Not the subject.
  {
    name: 'the subject of the alert may not decide',
    claimant: cli('jdoe'),
    verdict: { allowed: false, name: 'jdoe', rule: 'not-subject', reason: 'jdoe is the subject of this alert and may not decide on it.' },
  },
  {
    name: 'the subject is recognised without case, and a Slack refusal adds the directory name',
    claimant: slackUser('U0JDOE001', 'JDoe'),
    verdict: {
      allowed: false,
      name: 'jdoe',
      rule: 'not-subject',
      reason: '<@U0JDOE001> (jdoe) is the subject of this alert and may not decide on it.',
    },
  },
  // 5. Not the subject's manager.
  {
    name: "the subject's manager may not decide",
    claimant: cli('mmanager'),
    verdict: {
      allowed: false,
      name: 'mmanager',
      rule: 'not-manager',
      reason: "mmanager is the manager of the alert's subject and may not decide on it.",
    },
  },
  {
    name: 'the manager is recognised without case',
    claimant: slackUser('U0MARIA01', 'mmanager'),
    kase: { manager: 'MManager' },
    verdict: {
      allowed: false,
      name: 'mmanager',
      rule: 'not-manager',
      reason: "<@U0MARIA01> (mmanager) is the manager of the alert's subject and may not decide on it.",
    },
  },
  {
    name: 'with no manager known, only the subject is excluded',
    claimant: cli('mmanager'),
    kase: { manager: null },
    verdict: { allowed: true, name: 'mmanager' },
  },
  // 6. Two-person rule.
  {
    name: 'under the two-person rule, the first approver may not approve again',
    claimant: cli('ALICE'),
    kase: { approvedBy: ['alice'] },
    verdict: {
      allowed: false,
      name: 'alice',
      rule: 'two-person',
      reason: 'ALICE has already approved; the second approval must come from a different approver.',
    },
  },
  {
    name: 'under the two-person rule, a different approver may approve',
    claimant: cli('bob'),
    kase: { approvedBy: ['alice'] },
    verdict: { allowed: true, name: 'bob' },
  },
  // Order: the first rule that fails is the reason given.
  {
    name: 'the subject is refused as the subject even when also recorded as an approver',
    claimant: cli('jdoe'),
    kase: { approvedBy: ['jdoe'], manager: 'jdoe' },
    verdict: { allowed: false, name: 'jdoe', rule: 'not-subject', reason: 'jdoe is the subject of this alert and may not decide on it.' },
  },
];

describe('checkApprover: the identity rules for approval, release and confirm', () => {
  for (const row of rows) {
    test(row.name, () => {
      assert.deepEqual(checkApprover(row.claimant, { ...kase, ...row.kase }), row.verdict);
    });
  }
});

describe('checkApprover: every form of a name is the same person (canonical identity)', () => {
  const org = { domains: ['corp.example'], netbiosNames: ['CORP'] };
  const orgCase: ApproverCase = { ...kase, org };
  const forms = ['jdoe', 'JDoe', ' jdoe ', 'jdoe@corp.example', 'JDOE@CORP.EXAMPLE', 'CORP\\jdoe', 'corp.example\\jdoe', 'ｊｄｏｅ'];
  for (const form of forms) {
    test(`a Slack user whose directory name is ${JSON.stringify(form)} is the subject jdoe`, () => {
      const verdict = checkApprover(slackUser('U0JDOE001', form), orgCase);
      assert.equal(verdict.allowed, false);
      assert.equal(!verdict.allowed && verdict.rule, 'not-subject');
    });
    test(`a subject sent as ${JSON.stringify(form)} is refused to the Slack user mapped to jdoe`, () => {
      const verdict = checkApprover(slackUser('U0JDOE001', 'jdoe'), { ...orgCase, subject: form });
      assert.deepEqual(verdict, {
        allowed: false,
        name: 'jdoe',
        rule: 'not-subject',
        reason: '<@U0JDOE001> (jdoe) is the subject of this alert and may not decide on it.',
      });
    });
  }
  for (const manager of ['mmanager@corp.example', 'CORP\\MManager', 'mmanager']) {
    test(`a manager HR names as ${JSON.stringify(manager)} is refused whatever form their own name takes`, () => {
      for (const name of ['mmanager', 'CORP\\mmanager', 'MManager@corp.example']) {
        const verdict = checkApprover(slackUser('U0MARIA01', name), { ...orgCase, manager });
        assert.equal(!verdict.allowed && verdict.rule, 'not-manager', `${name} vs ${manager}`);
      }
    });
  }
  test("an account of a foreign domain is a different person: it may decide on the organisation's jdoe", () => {
    assert.deepEqual(checkApprover(slackUser('U0PARTNER', 'jdoe@partner.example'), orgCase), {
      allowed: true,
      name: 'jdoe@partner.example',
    });
  });
  test("in a run started before the organisation was snapshotted, any domain of the subject's account name is refused (wider, fail closed)", () => {
    const verdict = checkApprover(slackUser('U0PARTNER', 'jdoe@partner.example'), kase);
    assert.equal(!verdict.allowed && verdict.rule, 'not-subject');
  });
  test('a look-alike directory name (Latin and Cyrillic) decides nothing', () => {
    assert.deepEqual(checkApprover(slackUser('U0FAKE001', 'jd\u043Ee'), orgCase), {
      allowed: false,
      name: null,
      rule: 'directory-user',
      reason:
        "<@U0FAKE001>'s directory name mixes scripts (Latin and Cyrillic); a look-alike name is refused rather than guessed, so they may not decide.",
    });
  });
  test('the CLI reads --as CORP\\alice as the listed alice, and the same person cannot approve twice under another form', () => {
    const claimant = cliClaimant([{ id: 'alice' }], 'CORP\\alice', org);
    assert.deepEqual(checkApprover(claimant, orgCase), { allowed: true, name: 'alice' });
    const again = checkApprover(cliClaimant([{ id: 'alice' }], 'alice@corp.example', org), { ...orgCase, approvedBy: ['alice'] });
    assert.equal(!again.allowed && again.rule, 'two-person');
  });
});

describe('slackClaimant: the Slack delivery checks of a click', () => {
  const message = { channel: 'C0APPROVE', ts: '1700000000.000100' };
  const escalationMessage = { channel: 'C0ESCALATE', ts: '1700000100.000200' };
  const approvers: SlackApprover[] = [
    { userId: 'U0ALICE01', name: 'Alice', nameSource: 'mapping', via: 'user', group: null },
    { userId: 'U0ERIN001', name: 'erin', nameSource: 'email', via: 'escalation-group', group: 'S0ESC' },
  ];
  const approval = (patch: Partial<ApprovalState> = {}): ApprovalState => ({
    ...NO_APPROVAL,
    status: 'pending',
    slack: { message, escalationMessage: null, approvers },
    ...patch,
  });
  const ctx = (patch: Partial<SlackDecisionContext> = {}): SlackDecisionContext => ({
    teamId: 'T0TEAM',
    channelId: message.channel,
    messageTs: message.ts,
    userId: 'U0ALICE01',
    userName: 'alice',
    actionId: 'approve_all',
    actionTs: '1700000001.000000',
    ...patch,
  });
  const click = (patch: Partial<SlackClick> = {}): SlackClick => ({ approver: 'U0ALICE01', digest: 'sha256:x', slack: ctx(), ...patch });

  test('a click on the current message by a user in the snapshot is a claimant named by mention', () => {
    assert.deepEqual(slackClaimant(approval(), click()), {
      handle: '<@U0ALICE01>',
      showName: true,
      entry: { name: 'Alice', escalationOnly: false },
      howToMap: 'map them in slack.userMap',
    });
  });

  test('a click on the escalation message counts, and the escalation group is marked as such', () => {
    const escalated = approval({ escalatedAt: '2026-11-28T02:00:00.000Z', slack: { message, escalationMessage, approvers } });
    const claimant = slackClaimant(
      escalated,
      click({
        approver: 'U0ERIN001',
        slack: ctx({ userId: 'U0ERIN001', channelId: escalationMessage.channel, messageTs: escalationMessage.ts }),
      }),
    );
    assert.deepEqual(claimant.entry, { name: 'erin', escalationOnly: true });
  });

  test('a Slack user outside the snapshot gets no roster entry (the identity rules refuse them)', () => {
    assert.equal(slackClaimant(approval(), click({ approver: 'U0MALLORY', slack: ctx({ userId: 'U0MALLORY' }) })).entry, null);
  });

  const refusals: { name: string; approval: ApprovalState; click: SlackClick; reason: string }[] = [
    {
      name: 'a request that was not sent to Slack cannot be decided by a click',
      approval: approval({ slack: null }),
      click: click(),
      reason: 'This approval request was not sent to Slack; a Slack click cannot decide it.',
    },
    {
      name: 'a click without its Slack context is refused',
      approval: approval(),
      click: click({ slack: undefined }),
      reason: 'A Slack decision must carry its Slack context and digest.',
    },
    {
      name: 'a click without the digest it was shown is refused',
      approval: approval(),
      click: click({ digest: undefined }),
      reason: 'A Slack decision must carry its Slack context and digest.',
    },
    {
      name: 'a click whose Slack user is not the approver is refused',
      approval: approval(),
      click: click({ approver: 'U0BOB0001' }),
      reason: 'The Slack user does not match the approver.',
    },
    {
      name: 'a click on another message authorises nothing',
      approval: approval(),
      click: click({ slack: ctx({ messageTs: '1600000000.000000' }) }),
      reason: "This button is not on this run's current approval message; it authorises nothing.",
    },
    {
      name: 'a click in another channel with the same ts authorises nothing',
      approval: approval(),
      click: click({ slack: ctx({ channelId: 'C0OTHER' }) }),
      reason: "This button is not on this run's current approval message; it authorises nothing.",
    },
    {
      name: 'a click before the run recorded its message asks to click again',
      approval: approval({ slack: { message: null, escalationMessage: null, approvers } }),
      click: click(),
      reason: 'This request is still being posted; click again in a moment.',
    },
    {
      name: 'a click on an escalation message not yet recorded asks to click again',
      approval: approval({ escalatedAt: '2026-11-28T02:00:00.000Z' }),
      click: click({ slack: ctx({ channelId: escalationMessage.channel, messageTs: escalationMessage.ts }) }),
      reason: 'This request is still being posted; click again in a moment.',
    },
    {
      name: 'when posting failed, a click on an unknown message authorises nothing',
      approval: approval({ notifyError: 'slack down', slack: { message: null, escalationMessage: null, approvers } }),
      click: click(),
      reason: "This button is not on this run's current approval message; it authorises nothing.",
    },
  ];
  for (const row of refusals) {
    test(row.name, () => {
      assert.throws(() => slackClaimant(row.approval, row.click), { message: row.reason });
    });
  }
});

describe('checkReviewer: the same rules for a release or a confirmation of the containment', () => {
  const input: PlaybookInput = {
    alert: escalatingAlert(),
    policy: {
      decision: DEFAULT_DECISION_POLICY,
      approval: {
        timeoutMs: 60_000,
        deadlineMs: 60_000,
        reminderIntervalMs: null,
        twoPersonIsolation: true,
        approvers: [
          { id: 'alice', name: 'Alice' },
          { id: 'jdoe', name: 'Jane' },
          { id: 'mmanager', name: 'Maria' },
        ],
      },
      containment: LEGACY_CONTAINMENT_POLICY,
    },
  };
  const jdoe = fixtureData['hr-directory.yaml'].users[0]!;
  const message = { channel: 'C0APPROVE', ts: '1700000000.000100' };
  const aliceApproved: ApprovalRecord = {
    requestId: 'r1',
    decision: 'approve',
    actions: ['isolate-endpoint'],
    approver: 'alice',
    approverName: 'alice',
    via: 'cli',
    at: '2026-11-28T02:00:00.000Z',
    comment: null,
    digest: null,
    slack: null,
  };
  const state: RunState = {
    workflowId: 'wf',
    playbook: 'T1567.002',
    stage: 'contained',
    status: 'running',
    outcome: 'contained',
    alert: input.alert,
    alerts: [],
    enrichment: {
      // The fixture directory's jdoe, whose manager is mmanager.
      hr: { status: 'ok', source: 't', value: { ...jdoe, employmentStatus: 'active' } },
    },
    decision: null,
    approval: {
      ...NO_APPROVAL,
      status: 'approved',
      requestId: 'r1',
      digest: 'sha256:x',
      slack: {
        message,
        escalationMessage: null,
        approvers: [{ userId: 'U0ALICE01', name: 'alice', nameSource: 'mapping', via: 'user', group: null }],
      },
      decisions: [aliceApproved],
    },
    containment: [],
    escalations: [],
    release: { ...NO_RELEASE },
    lease: { ...NO_LEASE },
    startedAt: '2026-11-28T01:00:00.000Z',
    closedAt: null,
    report: null,
  };
  const review = (r: ContainmentReviewInput) => () => checkReviewer(input, state, r);

  test('an approver may review, even the one who approved (the two-person record is the approval’s own)', () => {
    assert.doesNotThrow(review({ approver: 'alice', via: 'cli' }));
  });
  test('the subject, their manager and a non-approver are refused with the approval’s messages', () => {
    assert.throws(review({ approver: 'jdoe', via: 'cli' }), { message: 'jdoe is the subject of this alert and may not decide on it.' });
    assert.throws(review({ approver: 'mmanager', via: 'cli' }), {
      message: "mmanager is the manager of the alert's subject and may not decide on it.",
    });
    assert.throws(review({ approver: 'mallory', via: 'cli' }), { message: 'mallory is not an authorised approver.' });
  });
  test("a Slack review (the Release button) must be a click on this run's approval message, with its digest", () => {
    const click = {
      approver: 'U0ALICE01',
      via: 'slack',
      digest: 'sha256:x',
      slack: {
        teamId: 'T',
        channelId: message.channel,
        messageTs: message.ts,
        userId: 'U0ALICE01',
        userName: 'alice',
        actionId: 'release_containment',
        actionTs: '1',
      },
    } as ContainmentReviewInput;
    assert.doesNotThrow(review(click));
    assert.throws(review({ approver: 'U0ALICE01', via: 'slack' }), {
      message: 'A Slack decision must carry its Slack context and digest.',
    });
    assert.throws(review({ ...click, digest: 'sha256:y' }), { message: /digest mismatch/ });
    assert.throws(review({ ...click, slack: { ...click.slack!, messageTs: '1.2' } }), {
      message: /not on this run's current approval message/,
    });
    assert.throws(review({ ...click, slack: { ...click.slack!, userId: 'U0OTHER01' } }), {
      message: 'The Slack user does not match the approver.',
    });
    // The identity rules apply to the mapped user as for the CLI.
    assert.throws(review({ ...click, approver: 'U0MALLORY', slack: { ...click.slack!, userId: 'U0MALLORY' } }), {
      message: /<@U0MALLORY> is not an authorised approver/,
    });
  });
});

describe('the CLI answer to a decision', () => {
  const first: ApprovalRecord = {
    requestId: 'r1',
    decision: 'approve',
    actions: ['revoke-cloud-storage-access', 'isolate-endpoint'],
    approver: 'alice',
    approverName: 'alice',
    via: 'cli',
    at: '2026-11-28T02:00:00.000Z',
    comment: null,
    digest: null,
    slack: null,
  };
  test('under the two-person rule it says what is pending and who approved first, never "pending by null at null"', () => {
    const answer = approvalAnswer('wf-1', { ...NO_APPROVAL, status: 'pending', awaitingSecondApproval: true, decisions: [first] });
    assert.equal(
      answer,
      'wf-1: pending: the approval of revoke-cloud-storage-access, isolate-endpoint by alice (via cli) at 2026-11-28T02:00:00.000Z ' +
        'is recorded and waits for a second, different approver (endpoint isolation needs approvals from two different approvers)',
    );
    assert.ok(!answer.includes('null'));
  });
  test('a decided request names who decided and when', () => {
    assert.equal(
      approvalAnswer('wf-1', {
        ...NO_APPROVAL,
        status: 'denied',
        decidedBy: 'bob',
        decidedAt: '2026-11-28T02:01:00.000Z',
        decisions: [first],
      }),
      'wf-1: denied by bob at 2026-11-28T02:01:00.000Z',
    );
  });
});
