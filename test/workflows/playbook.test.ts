/**
 * The T1567.002 workflow on a real Temporal dev server, with the real activities and file connectors.
 * The worker caches no workflows (maxCachedWorkflows: 0), so every workflow task replays the history so far.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { exfilToCloudStorage } from '../../workflows';
import { getStateQuery } from '../../workflows/messages';
import type { Config } from '../../src/config';
import { DryRunContainment } from '../../src/connectors/dry-run/client';
import { GENESIS_HASH, verifyRunChains } from '../../src/audit/audit-log';
import type { RunState } from '../../src/contracts/playbook';
import { decideApproval, playbookInput } from '../../src/temporal/playbook-runs';
import { createWorker } from '../../src/worker';
import { createActivityDeps } from '../../src/wiring';
import { createLogger } from '../../src/logger';
import { benignAlert, escalatingAlert, rawTestConfig, unique, writeDataDir } from '../helpers/fixtures';
import { parseConfig } from '../../src/config';
import { auditRecords } from '../helpers/audit';
import { eventually, startTestServer, workflowBundle } from '../helpers/temporal';

const silent = createLogger({ level: 'silent' });

describe('T1567.002 playbook workflow (every task replays)', () => {
  let env: TestWorkflowEnvironment;
  const workers: { worker: Worker; running: Promise<void> }[] = [];

  before(async () => {
    env = await startTestServer();
  });

  after(async () => {
    for (const w of workers) w.worker.shutdown();
    await Promise.all(workers.map((w) => w.running));
    await env?.teardown();
  });

  /** A worker on its own task queue with its own data and state folders. */
  async function startWorker(
    options: { dataDir?: string; approvalTimeout?: string; playbook?: Record<string, unknown> } = {},
  ): Promise<{ config: Config; ledger: DryRunContainment }> {
    const taskQueue = unique('wf');
    const { playbook, ...rest } = options;
    const raw = rawTestConfig({ taskQueue, ...rest });
    const config = parseConfig({ ...raw, playbook: { ...(raw.playbook as object), ...playbook } }, {});
    const worker = await createWorker({
      config,
      connection: env.nativeConnection,
      deps: createActivityDeps(config, silent),
      workflowBundle: await workflowBundle(),
      maxCachedWorkflows: 0,
    });
    workers.push({ worker, running: worker.run() });
    return { config, ledger: new DryRunContainment(config.dataDir) };
  }

  function start(config: Config, alert = escalatingAlert()): Promise<WorkflowHandle<typeof exfilToCloudStorage>> {
    return env.client.workflow.start(exfilToCloudStorage, {
      taskQueue: config.temporal.taskQueue,
      workflowId: unique('run'),
      args: [playbookInput(config, alert)],
    });
  }

  const awaitingApproval = (handle: WorkflowHandle) =>
    eventually(
      async () => {
        const state = await handle.query(getStateQuery);
        return state.stage === 'awaiting-approval' && state.approval.notifiedVia !== null ? state : null;
      },
      30_000,
      'the run to await approval',
    );

  async function scheduledActivities(handle: WorkflowHandle): Promise<string[]> {
    const history = await handle.fetchHistory();
    return (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((name): name is string => typeof name === 'string');
  }

  /** The activity types of the run's local activity markers (the SDK core's marker data, in plain JSON). */
  async function localActivities(handle: WorkflowHandle): Promise<string[]> {
    const history = await handle.fetchHistory();
    return (history.events ?? []).flatMap((e) => {
      const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
      if (e.markerRecordedEventAttributes?.markerName !== 'core_local_activity' || !data) return [];
      return [String((JSON.parse(Buffer.from(data).toString()) as { activity_type?: unknown }).activity_type)];
    });
  }

  test('a benign run closes without asking for approval', async () => {
    const { config, ledger } = await startWorker();
    const handle = await start(config, benignAlert());
    const result: RunState = await handle.result();
    assert.equal(result.status, 'closed');
    assert.equal(result.decision?.outcome, 'benign');
    assert.equal(result.outcome, 'benign');
    assert.equal(result.approval.status, 'not-required');
    assert.deepEqual(result.containment, []);
    assert.equal(result.enrichment.domain?.status, 'ok');
    assert.match(result.report?.markdown ?? '', /No escalation rule fired/);
    const activities = await scheduledActivities(handle);
    // Every source is a file here: the four lookups run as local activities (policy.lookups), in the workflow task.
    for (const lookup of ['lookupHrAuthorization', 'findCloudStoragePolicyChanges', 'checkDeviceAuthorization', 'getUploadBaseline'])
      assert.ok(!activities.includes(lookup), `${lookup} is not scheduled as an ordinary activity`);
    assert.deepEqual(
      (await localActivities(handle)).sort(),
      ['checkDestinationDomain', 'checkDeviceAuthorization', 'evaluateBusinessHours', 'findCloudStoragePolicyChanges', 'getUploadBaseline', 'lookupHrAuthorization'],
    );
    assert.ok(!activities.includes('requestApproval'));
    assert.ok(!activities.includes('isolateEndpoint'));
    assert.deepEqual(await ledger.entries(), []);
    // The close is one activity (patch set 2): the decision's record, the report, then the close's record.
    assert.deepEqual(
      activities.filter((a) => ['publishReport', 'recordAuditEvent', 'publishReportAndRecord'].includes(a)),
      ['publishReportAndRecord'],
    );
    const records = auditRecords(config.audit.file, handle.workflowId);
    assert.deepEqual(
      records.map((r) => r.type),
      ['decision', 'run-closed'],
    );
    const [decision, closed] = records;
    assert.equal(decision?.runPrevHash, GENESIS_HASH, "the decision's record starts the run's chain");
    assert.equal(closed?.runPrevHash, decision?.runHash, "the close's record follows it");
    assert.equal(verifyRunChains(records).ok, true);
    assert.deepEqual(decision?.data, {
      outcome: 'benign',
      ruleVersion: result.decision?.ruleVersion,
      triggeredBy: result.decision?.triggeredBy,
      reasons: result.decision?.reasons,
    });
    assert.equal(closed?.data.summary, result.report?.summary);
  });

  test('an escalated run waits for approval, then runs each containment step exactly once', async () => {
    const { config, ledger } = await startWorker();
    const handle = await start(config);
    const waiting = await awaitingApproval(handle);
    assert.equal(waiting.decision?.outcome, 'escalate');
    assert.deepEqual(waiting.decision?.triggeredBy, ['volume-out-of-norm', 'off-hours-without-justification']);
    assert.equal(waiting.approval.status, 'pending');
    assert.equal(waiting.approval.notifiedVia, 'log');

    const approval = await decideApproval(env.client, handle.workflowId, {
      decision: 'approve',
      approver: 'alice',
      via: 'cli',
      comment: 'confirmed with IR',
    });
    assert.equal(approval.status, 'approved');
    assert.equal(approval.decidedBy, 'alice');

    const result = await handle.result();
    assert.equal(result.outcome, 'containment-simulated');
    assert.deepEqual(
      result.containment.map((c) => [c.action, c.target, c.status, c.provider]),
      [
        ['revoke-cloud-storage-access', 'jdoe', 'simulated', 'dry-run'],
        ['isolate-endpoint', 'LAPTOP-JD01', 'simulated', 'dry-run'],
      ],
    );
    assert.equal(result.approval.comment, 'confirmed with IR');
    const activities = await scheduledActivities(handle);
    assert.equal(activities.filter((a) => a === 'revokeCloudStorageAccess').length, 1);
    assert.equal(activities.filter((a) => a === 'isolateEndpoint').length, 1);
    const entries = (await ledger.entries()).filter((e) => e.key.startsWith(handle.workflowId));
    assert.deepEqual(entries.map((e) => e.key).sort(), [
      `${handle.workflowId}:isolate-endpoint`,
      `${handle.workflowId}:revoke-cloud-storage-access`,
    ]);
    assert.match(result.report?.markdown ?? '', /Simulated: dry-run containment/);
  });

  test('an approval limited to one action runs only that action', async () => {
    const { config, ledger } = await startWorker();
    const handle = await start(config);
    await awaitingApproval(handle);
    const approval = await decideApproval(env.client, handle.workflowId, {
      decision: 'approve',
      approver: 'alice',
      via: 'cli',
      actions: ['revoke-cloud-storage-access'],
    });
    assert.deepEqual(approval.approvedActions, ['revoke-cloud-storage-access']);
    const result = await handle.result();
    assert.deepEqual(
      result.containment.map((c) => c.action),
      ['revoke-cloud-storage-access'],
    );
    assert.ok(!(await scheduledActivities(handle)).includes('isolateEndpoint'));
    assert.deepEqual(
      (await ledger.entries()).map((e) => e.key),
      [`${handle.workflowId}:revoke-cloud-storage-access`],
    );
  });

  test('a denied run does not contain', async () => {
    const { config, ledger } = await startWorker();
    const handle = await start(config);
    await awaitingApproval(handle);
    await decideApproval(env.client, handle.workflowId, { decision: 'deny', approver: 'bob', via: 'cli' });
    const result = await handle.result();
    assert.equal(result.approval.status, 'denied');
    assert.equal(result.outcome, 'denied');
    assert.deepEqual(result.containment, []);
    assert.ok(!(await scheduledActivities(handle)).includes('isolateEndpoint'));
    assert.deepEqual(await ledger.entries(), []);
  });

  test('an unanswered approval expires and the run ends without containment', async () => {
    const { config, ledger } = await startWorker({ approvalTimeout: '2s' });
    const handle = await start(config);
    const result = await handle.result();
    assert.equal(result.approval.status, 'expired');
    assert.equal(result.outcome, 'approval-expired');
    assert.equal(result.status, 'closed');
    assert.deepEqual(result.containment, []);
    assert.deepEqual(await ledger.entries(), []);
  });

  test('decisions from non-approvers, the subject, the manager or a stale request are rejected and the run keeps waiting', async () => {
    const { config } = await startWorker();
    const handle = await start(config);
    const waiting = await awaitingApproval(handle);

    const rejected = async (decision: Parameters<typeof decideApproval>[2], message: RegExp) => {
      await assert.rejects(decideApproval(env.client, handle.workflowId, decision), (err: Error) => {
        assert.ok(err instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${err.name}`);
        assert.match((err.cause as Error).message, message);
        return true;
      });
    };
    await rejected({ decision: 'approve', approver: 'mallory', via: 'cli' }, /mallory is not an authorised approver/);
    await rejected({ decision: 'approve', approver: 'jdoe', via: 'cli' }, /jdoe is the subject of this alert/);
    await rejected({ decision: 'approve', approver: 'mmanager', via: 'cli' }, /mmanager is the manager of the alert's subject/);
    await rejected({ decision: 'approve', approver: 'alice', via: 'cli', requestId: 'an-older-request' }, /not the current one/);

    const still = await handle.query(getStateQuery);
    assert.equal(still.approval.status, 'pending');
    assert.equal(still.approval.requestId, waiting.approval.requestId);
    // Rejected Updates write nothing to history.
    const history = await handle.fetchHistory();
    assert.equal((history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length, 0);

    await decideApproval(env.client, handle.workflowId, { decision: 'approve', approver: 'alice', via: 'cli' });
    await rejected(
      { decision: 'deny', approver: 'bob', via: 'cli', requestId: waiting.approval.requestId ?? '' },
      /No approval is pending/,
    );
    assert.equal((await handle.result()).approval.decidedBy, 'alice');
  });

  test('"false-positive" from the CLI closes the run without containment, recorded apart from a denial', async () => {
    const { config, ledger } = await startWorker();
    const handle = await start(config);
    await awaitingApproval(handle);
    const approval = await decideApproval(env.client, handle.workflowId, { decision: 'false-positive', approver: 'bob', via: 'cli' });
    assert.equal(approval.status, 'false-positive');
    const result = await handle.result();
    assert.equal(result.outcome, 'false-positive');
    assert.deepEqual(result.containment, []);
    assert.deepEqual(await ledger.entries(), []);
    assert.match(result.report?.markdown ?? '', /false-positive by bob via cli/);
  });

  test('the request carries a digest; a decision naming another digest authorises nothing', async () => {
    const { config } = await startWorker();
    const handle = await start(config);
    const waiting = await awaitingApproval(handle);
    assert.match(waiting.approval.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(waiting.approval.proposedActions, [
      { action: 'revoke-cloud-storage-access', target: 'jdoe', provider: 'dry-run' },
      { action: 'isolate-endpoint', target: 'LAPTOP-JD01', provider: 'dry-run' },
    ]);
    await assert.rejects(
      decideApproval(env.client, handle.workflowId, {
        decision: 'approve',
        approver: 'alice',
        via: 'cli',
        digest: `sha256:${'0'.repeat(64)}`,
      }),
      (err: Error) => /digest mismatch/.test((err.cause as Error).message),
    );
    // A Slack-shaped decision on a request that never went to Slack decides nothing either.
    await assert.rejects(
      decideApproval(env.client, handle.workflowId, {
        decision: 'approve',
        approver: 'U0ALICE01',
        via: 'slack',
        digest: waiting.approval.digest ?? '',
      }),
      (err: Error) => /was not sent to Slack/.test((err.cause as Error).message),
    );
    await handle.terminate('test done');
  });

  test('with the two-person rule, the CLI needs two different approvers for isolation', async () => {
    const { config, ledger } = await startWorker({ playbook: { twoPersonIsolation: true } });
    const handle = await start(config);
    await awaitingApproval(handle);
    const first = await decideApproval(env.client, handle.workflowId, { decision: 'approve', approver: 'alice', via: 'cli' });
    assert.equal(first.status, 'pending');
    assert.equal(first.awaitingSecondApproval, true);
    await assert.rejects(
      decideApproval(env.client, handle.workflowId, { decision: 'approve', approver: 'ALICE', via: 'cli' }),
      (err: Error) => /alice has already approved|ALICE has already approved/.test((err.cause as Error).message),
    );
    // A second approver who approves only revocation leaves isolation without its second approval: not run.
    const second = await decideApproval(env.client, handle.workflowId, {
      decision: 'approve',
      approver: 'bob',
      via: 'cli',
      actions: ['revoke-cloud-storage-access'],
    });
    assert.equal(second.status, 'approved');
    assert.deepEqual(second.approvedActions, ['revoke-cloud-storage-access']);
    const result = await handle.result();
    assert.deepEqual(
      result.containment.map((c) => c.action),
      ['revoke-cloud-storage-access'],
    );
    assert.deepEqual(
      (await ledger.entries()).map((e) => e.key),
      [`${handle.workflowId}:revoke-cloud-storage-access`],
    );
  });

  test('reminders and escalation fire on durable timers before the final deadline (log notifier)', async () => {
    const { config } = await startWorker({ playbook: { approvalTimeout: '2s', approvalDeadline: '5s', approvalReminderInterval: '1s' } });
    const handle = await start(config);
    const result = await handle.result();
    assert.equal(result.outcome, 'approval-expired');
    assert.ok(result.approval.escalatedAt !== null);
    assert.ok(Date.parse(result.approval.escalatedAt) >= Date.parse(result.approval.escalateAt ?? ''));
    assert.ok(result.approval.remindersSent >= 3, `reminders: ${result.approval.remindersSent}`);
    const activities = await scheduledActivities(handle);
    assert.equal(activities.filter((a) => a === 'escalateApproval').length, 1);
    assert.equal(activities.filter((a) => a === 'remindApprovers').length, result.approval.remindersSent);
    const timers = (await handle.fetchHistory()).events?.filter((e) => e.timerStartedEventAttributes).length ?? 0;
    assert.ok(timers >= 4, `durable timers: ${timers}`);
  });

  test('a source that fails permanently is recorded as unknown and the run still decides, failing closed', async () => {
    const { config } = await startWorker({ dataDir: writeDataDir({}, ['devices.yaml']) });
    const handle = await start(config, benignAlert());
    const state = await awaitingApproval(handle);
    assert.equal(state.enrichment.device?.status, 'unknown');
    assert.match(state.enrichment.device?.status === 'unknown' ? state.enrichment.device.reason : '', /devices\.yaml/);
    assert.equal(state.decision?.outcome, 'escalate');
    assert.deepEqual(state.decision?.triggeredBy, ['device-not-authorized']);
    await handle.terminate('test done');
  });

  test('a local step that fails (the cloud-storage catalogue is gone) is recorded as unknown, not a failed run', async () => {
    const { config } = await startWorker({ dataDir: writeDataDir({}, ['cloud-storage.yaml']) });
    const handle = await start(config, benignAlert());
    // The run decides and closes (before, the local step's failure failed the run: no decision, no report).
    const state: RunState = await handle.result();
    assert.equal(state.status, 'closed');
    assert.equal(state.enrichment.domain?.status, 'unknown');
    assert.match(state.enrichment.domain?.status === 'unknown' ? state.enrichment.domain.reason : '', /cloud-storage\.yaml/);
    assert.ok(state.decision?.reasons.length, 'the decision says why');
    assert.ok((await localActivities(handle)).includes('checkDestinationDomain'), 'the domain check ran as a local activity');
  });
});
