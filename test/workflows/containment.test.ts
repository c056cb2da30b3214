/**
 * Containment on a real Temporal dev server with the real activities and connectors against vendor stand-ins
 * (CrowdStrike Falcon for isolation, Okta for access): verified containment, guard rails, partial failure, a worker
 * stopped mid-polling and replaced, release through the Update, and the containment lease. Every task replays.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { exfilToCloudStorage } from '../../workflows';
import { getStateQuery } from '../../workflows/messages';
import { parseConfig, type Config } from '../../src/config';
import type { RunState } from '../../src/contracts/playbook';
import { confirmContainment, decideApproval, playbookInput, releaseContainment } from '../../src/temporal/playbook-runs';
import { createWorker } from '../../src/worker';
import { createActivityDeps } from '../../src/wiring';
import { createLogger } from '../../src/logger';
import { FakeCrowdStrike, FakeOkta } from '../fakes/containment-vendors';
import { escalatingAlert, rawTestConfig, unique } from '../helpers/fixtures';
import { eventually, startTestServer, workflowBundle } from '../helpers/temporal';

const silent = createLogger({ level: 'silent' });

describe('containment with real connectors (every task replays)', () => {
  let env: TestWorkflowEnvironment;
  let falcon: FakeCrowdStrike;
  let okta: FakeOkta;
  let oktaUserId: string;
  const workers: { worker: Worker; running: Promise<void> }[] = [];

  before(async () => {
    env = await startTestServer();
    falcon = await new FakeCrowdStrike().start();
    okta = await new FakeOkta().start();
    oktaUserId = okta.addUser('jdoe@acme.com');
    okta.addApp('0oaDropbox');
  });

  after(async () => {
    for (const w of workers) if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
    await Promise.allSettled(workers.map((w) => w.running));
    await Promise.all([falcon?.stop(), okta?.stop()]);
    await env?.teardown();
  });

  interface Options {
    playbook?: Record<string, unknown>;
    isolation?: Record<string, unknown>;
    access?: Record<string, unknown>;
    taskQueue?: string;
  }

  function configFor(options: Options = {}): Config {
    const raw = rawTestConfig({ taskQueue: options.taskQueue ?? unique('cont') }) as Record<string, unknown> & {
      playbook: Record<string, unknown>;
    };
    raw.playbook.containment = { maxDevicesPerRun: 1, ...options.playbook };
    raw.vendors = {
      crowdstrike: { baseUrl: falcon.url, clientId: falcon.clientId, clientSecret: 'env:FALCON_SECRET' },
      okta: { orgUrl: okta.url, auth: { type: 'ssws', token: 'env:OKTA_TOKEN' } },
    };
    raw.containment = {
      isolation: { provider: 'crowdstrike', pollInterval: 100, verifyTimeout: '60s', heartbeatTimeout: '2s', ...options.isolation },
      access: {
        providers: ['okta'],
        okta: { userTemplate: '{user}@acme.com', unassignAppId: '0oaDropbox' },
        ...options.access,
      },
    };
    return parseConfig(raw, { FALCON_SECRET: falcon.clientSecret, OKTA_TOKEN: okta.apiToken });
  }

  /**
   * `cached`: a worker with a workflow cache, for tests that keep two runs in flight at once. With no cache, the
   * SDK's core (1.24.0) can evict a run mid-task while another run's local activity resolves, strand the task's
   * local-activity markers and time the task out, again and again (sdk-rust #1482: a CI run saw the second run
   * stall for over 60 s). Workers in production keep a cache (config refuses 0).
   */
  async function startWorker(config: Config, cached = false): Promise<{ worker: Worker; running: Promise<void> }> {
    const worker = await createWorker({
      config,
      connection: env.nativeConnection,
      deps: createActivityDeps(config, silent),
      workflowBundle: await workflowBundle(),
      maxCachedWorkflows: cached ? 10 : 0,
    });
    const entry = { worker, running: worker.run() };
    workers.push(entry);
    return entry;
  }

  async function approvedRun(config: Config, host: string, user = 'jdoe'): Promise<WorkflowHandle<typeof exfilToCloudStorage>> {
    const handle = await env.client.workflow.start(exfilToCloudStorage, {
      taskQueue: config.temporal.taskQueue,
      workflowId: unique('run'),
      args: [playbookInput(config, escalatingAlert({ host, user }))],
    });
    await eventually(
      async () => {
        const s = await handle.query(getStateQuery);
        return s.stage === 'awaiting-approval' && s.approval.notifiedVia !== null;
      },
      30_000,
      'the approval request',
    );
    await decideApproval(env.client, handle.workflowId, { decision: 'approve', approver: 'alice', via: 'cli' });
    return handle;
  }

  test('with the subject unknown to HR, approval, release and confirmation each need two different approvers', async () => {
    const config = configFor({
      playbook: { releaseWindow: '10m', lease: '10m' },
      isolation: { provider: 'dry-run' },
      access: { providers: ['dry-run'] },
    });
    await startWorker(config);
    const handle = await approvedRun(config, unique('NOHR'), 'nohr.user');
    const half = await handle.query(getStateQuery);
    assert.equal(half.approval.status, 'pending', 'one approval decides nothing');
    assert.match(half.approval.awaitingSecondBecause ?? '', /^HR has no record of nohr\.user .*needs two different approvers$/);
    await decideApproval(env.client, handle.workflowId, { decision: 'approve', approver: 'bob', via: 'cli' });
    await eventually(async () => (await handle.query(getStateQuery)).stage === 'contained', 30_000, 'holding');

    const first = await confirmContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli' });
    assert.deepEqual([first.status, first.firstConfirmBy], ['unconfirmed', 'bob']);
    await assert.rejects(confirmContainment(env.client, handle.workflowId, { approver: 'BOB', via: 'cli' }), (err: Error) => {
      assert.match(
        (err.cause as Error).message,
        /^BOB has already asked for this; HR has no record of nohr\.user .* so the second must come from someone else\.$/,
      );
      return true;
    });
    assert.equal((await confirmContainment(env.client, handle.workflowId, { approver: 'alice', via: 'cli' })).status, 'confirmed');

    const asked = await releaseContainment(env.client, handle.workflowId, { approver: 'alice', via: 'cli' });
    assert.deepEqual([asked.status, asked.firstRequestBy], ['not-requested', 'alice']);
    assert.equal((await handle.query(getStateQuery)).stage, 'contained', 'one release request undoes nothing');
    const release = await releaseContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli' });
    assert.equal(release.status, 'released');
    assert.equal(release.requestedBy, 'bob');
    assert.equal((await handle.result()).release.status, 'released');
  });

  async function activityTypes(handle: WorkflowHandle): Promise<string[]> {
    const history = await handle.fetchHistory();
    return (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((n): n is string => typeof n === 'string');
  }

  const containCalls = (deviceId: string) =>
    falcon.actionCalls('contain').filter((r) => (r.json as { ids: string[] }).ids.includes(deviceId));

  test('isolates at CrowdStrike and revokes at Okta, both verified: contained, each asked once', async () => {
    const config = configFor();
    await startWorker(config);
    const host = unique('HOST').toUpperCase();
    const deviceId = falcon.addDevice(host);
    okta.assignments.get('0oaDropbox')?.set(oktaUserId, 'USER');
    const handle = await approvedRun(config, host);
    const result: RunState = await handle.result();
    assert.equal(result.outcome, 'contained');
    const byAction = Object.fromEntries(result.containment.map((c) => [c.action, c]));
    assert.equal(byAction['isolate-endpoint']?.status, 'done');
    assert.equal(byAction['isolate-endpoint']?.provider, 'crowdstrike');
    assert.match(byAction['isolate-endpoint']?.detail ?? '', /isolated by this run: verified with crowdstrike/);
    assert.equal(byAction['isolate-endpoint']?.changedBy, 'this-run');
    assert.deepEqual(byAction['isolate-endpoint']?.ref, { deviceIds: deviceId });
    assert.equal(byAction['revoke-cloud-storage-access']?.status, 'done');
    assert.equal(byAction['revoke-cloud-storage-access']?.provider, 'okta');
    assert.equal(falcon.devices.get(deviceId)?.status, 'contained');
    assert.equal(containCalls(deviceId).length, 1);
    assert.match(result.report?.markdown ?? '', /isolate-endpoint on .* via crowdstrike: \*\*done\*\*/);
    // No secret reached the run's history.
    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(!history.includes(falcon.clientSecret) && !history.includes(okta.apiToken));
  });

  test('a protected device is refused and escalated to Tier 2; the account is still revoked', async () => {
    const config = configFor({ playbook: { protectedDevices: ['DC-*', 'EXEC-*'] } });
    await startWorker(config);
    const host = `EXEC-${unique('x')}`;
    const deviceId = falcon.addDevice(host);
    const handle = await approvedRun(config, host);
    const result = await handle.result();
    const isolate = result.containment.find((c) => c.action === 'isolate-endpoint');
    assert.equal(isolate?.status, 'refused');
    assert.match(isolate?.detail ?? '', /is a protected device \(EXEC-\*\): not contained; escalated to Tier 2/);
    assert.equal(result.containment.find((c) => c.action === 'revoke-cloud-storage-access')?.status, 'done');
    assert.equal(result.outcome, 'partially-contained');
    assert.equal(result.escalations.length, 1);
    assert.equal(result.escalations[0]?.target, host);
    assert.equal(containCalls(deviceId).length, 0);
    const types = await activityTypes(handle);
    assert.ok(!types.includes('isolateEndpoint'));
    assert.ok(types.includes('escalateToTier2'));
    assert.match(result.report?.markdown ?? '', /Refused by a guard rail \(escalated to Tier 2\)/);
  });

  test('a protected account and device refuse everything: containment-refused, nothing called', async () => {
    const config = configFor({ playbook: { protectedAccounts: ['jdoe'], protectedDevices: ['*'] } });
    await startWorker(config);
    const handle = await approvedRun(config, unique('H'));
    const result = await handle.result();
    assert.equal(result.outcome, 'containment-refused');
    assert.deepEqual(
      result.containment.map((c) => c.status),
      ['refused', 'refused'],
    );
    const types = await activityTypes(handle);
    assert.ok(!types.includes('isolateEndpoint') && !types.includes('revokeCloudStorageAccess'));
  });

  test('partial failure: Okta refuses (403, not retried), the isolation still completes, the run says exactly that and escalates to Tier 2', async () => {
    const config = configFor();
    await startWorker(config);
    const host = unique('PART').toUpperCase();
    const deviceId = falcon.addDevice(host);
    okta.inject('GET', '/api/v1/users/jdoe%40acme.com', {
      status: 403,
      body: { errorCode: 'E0000006', errorSummary: 'You do not have permission to perform the requested action', errorCauses: [] },
    });
    const handle = await approvedRun(config, host);
    const result = await handle.result();
    assert.equal(result.outcome, 'partially-contained');
    const revoke = result.containment.find((c) => c.action === 'revoke-cloud-storage-access');
    assert.equal(revoke?.status, 'failed');
    assert.equal(revoke?.provider, 'okta');
    assert.match(revoke?.detail ?? '', /^okta: look up user jdoe@acme\.com: HTTP 403 .*needs permission: .*okta\.users\.manage/);
    assert.equal(result.containment.find((c) => c.action === 'isolate-endpoint')?.status, 'done');
    assert.equal(falcon.devices.get(deviceId)?.status, 'contained');
    // The failure is escalated to Tier 2 (the log here: no Slack in this configuration).
    assert.ok((await activityTypes(handle)).includes('escalateToTier2'), 'a failed containment is escalated to Tier 2');
    const history = await handle.fetchHistory();
    const failed = (history.events ?? []).find((e) => e.activityTaskFailedEventAttributes);
    assert.ok(failed, 'the revocation failed in history');
    assert.equal(
      (history.events ?? []).find(
        (e) =>
          e.activityTaskStartedEventAttributes &&
          e.eventId &&
          failed.activityTaskFailedEventAttributes?.startedEventId?.toString() === e.eventId.toString(),
      )?.activityTaskStartedEventAttributes?.attempt,
      1,
      'a 403 is not retried',
    );
  });

  test("transient faults retry with backoff and a 429 waits for Okta's X-Rate-Limit-Reset; both actions still complete", async () => {
    const config = configFor();
    await startWorker(config);
    const host = unique('RETRY').toUpperCase();
    const deviceId = falcon.addDevice(host);
    falcon.inject('GET', '/devices/queries/devices/v1', { status: 503, body: { errors: [{ code: 503, message: 'Service Unavailable' }] } });
    const resetAt = Math.floor(Date.now() / 1000) + 6;
    okta.inject('GET', '/api/v1/users/jdoe%40acme.com', {
      status: 429,
      headers: { 'x-rate-limit-limit': '600', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(resetAt) },
      body: { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.', errorCauses: [] },
    });
    const handle = await approvedRun(config, host);
    const result = await handle.result();
    assert.equal(result.outcome, 'contained');
    assert.equal(containCalls(deviceId).length, 1);
    const history = await handle.fetchHistory();
    const started = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
    assert.ok(
      started.some((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 0) >= 2),
      'something was retried',
    );
    // The retry of the Okta call came no earlier than Okta's reset time.
    const lastLookupAt = okta.timesOf('GET', '/api/v1/users/jdoe%40acme.com').at(-1) ?? 0;
    assert.ok(lastLookupAt >= resetAt * 1000 - 1000, `retried ${(resetAt * 1000 - lastLookupAt) / 1000}s before Okta's reset`);
  });

  test('a worker stopped while polling is replaced; the new one resumes and Falcon is asked to contain once', async () => {
    const taskQueue = unique('crash');
    const config = configFor({ taskQueue });
    const first = await startWorker(config);
    const host = unique('CRASH').toUpperCase();
    const deviceId = falcon.addDevice(host);
    falcon.hold = true;
    try {
      const handle = await approvedRun(config, host);
      await eventually(() => Promise.resolve(containCalls(deviceId).length === 1), 30_000, 'the contain request');
      const polls = () =>
        falcon.calls('GET', '/devices/entities/devices/v2').filter((r) => r.query.getAll('ids').includes(deviceId)).length;
      const before = polls();
      await eventually(() => Promise.resolve(polls() > before + 2), 10_000, 'polling');
      first.worker.shutdown();
      await first.running;
      assert.equal((await handle.query(getStateQuery).catch(() => null))?.status ?? 'running', 'running');
      await startWorker(config);
      falcon.hold = false;
      const result = await handle.result();
      assert.equal(result.outcome, 'contained');
      assert.equal(result.containment.find((c) => c.action === 'isolate-endpoint')?.status, 'done');
      assert.equal(containCalls(deviceId).length, 1, 'contain was requested exactly once across both workers');
      const history = await handle.fetchHistory();
      const attempts = (history.events ?? [])
        .map((e) => e.activityTaskStartedEventAttributes?.attempt)
        .filter((a): a is number => typeof a === 'number');
      assert.ok(Math.max(...attempts) >= 2, 'the isolation ran again on the new worker');
    } finally {
      falcon.hold = false;
    }
  });

  test('release: checked with the approver rules, lifts the isolation and restores the app assignment, recorded in the run', async () => {
    const config = configFor({ playbook: { releaseWindow: '10m' } });
    await startWorker(config);
    const host = unique('REL').toUpperCase();
    const deviceId = falcon.addDevice(host);
    okta.assignments.get('0oaDropbox')?.set(oktaUserId, 'USER');
    const handle = await approvedRun(config, host);
    const held = await eventually(
      async () => {
        const s = await handle.query(getStateQuery);
        return s.stage === 'contained' ? s : null;
      },
      30_000,
      'the run to hold the containment',
    );
    assert.equal(held.outcome, 'contained');
    assert.ok(held.release.windowEndsAt);
    assert.equal(okta.assignments.get('0oaDropbox')?.has(oktaUserId), false);

    for (const [approver, message] of [
      ['jdoe', /jdoe is the subject of this alert/],
      ['mmanager', /manager of the alert's subject/],
      ['mallory', /not an authorised approver/],
    ] as const) {
      await assert.rejects(releaseContainment(env.client, handle.workflowId, { approver, via: 'cli' }), (err: Error) => {
        assert.ok(err instanceof WorkflowUpdateFailedError);
        assert.match((err.cause as Error).message, message);
        return true;
      });
    }
    const release = await releaseContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli', comment: 'false positive' });
    assert.equal(release.status, 'released');
    assert.equal(release.requestedBy, 'bob');
    assert.deepEqual(release.results.map((r) => [r.action, r.status]).sort(), [
      ['lift-endpoint-isolation', 'done'],
      ['restore-cloud-storage-access', 'done'],
    ]);
    const result = await handle.result();
    assert.equal(result.status, 'closed');
    assert.equal(result.release.status, 'released');
    assert.equal(falcon.devices.get(deviceId)?.status, 'normal');
    assert.equal(falcon.actionCalls('lift_containment').filter((r) => (r.json as { ids: string[] }).ids.includes(deviceId)).length, 1);
    assert.equal(okta.assignments.get('0oaDropbox')?.get(oktaUserId), 'USER');
    assert.match(result.report?.markdown ?? '', /## Release\nreleased \(requested by bob via cli/);
    await assert.rejects(releaseContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli' }));
  });

  test('a device that was already contained is not lifted by the release', async () => {
    const config = configFor({ playbook: { releaseWindow: '10m' }, access: { providers: ['dry-run'] } });
    await startWorker(config);
    const host = unique('PRE').toUpperCase();
    const deviceId = falcon.addDevice(host, 'contained');
    const handle = await approvedRun(config, host);
    await eventually(async () => (await handle.query(getStateQuery)).stage === 'contained', 30_000, 'holding');
    const release = await releaseContainment(env.client, handle.workflowId, { approver: 'alice', via: 'cli' });
    const lift = release.results.find((r) => r.action === 'lift-endpoint-isolation');
    assert.equal(lift?.status, 'skipped');
    assert.match(lift?.detail ?? '', /already in place before this run/);
    assert.equal(release.status, 'released');
    assert.equal(falcon.devices.get(deviceId)?.status, 'contained');
    assert.equal(falcon.actionCalls('lift_containment').filter((r) => (r.json as { ids: string[] }).ids.includes(deviceId)).length, 0);
  });

  test('lease: unconfirmed containment is re-escalated to Tier 2; a confirmed one is not; the window then closes the run', async () => {
    const config = configFor({
      playbook: { releaseWindow: '8s', lease: '3s' },
      isolation: { provider: 'dry-run' },
      access: { providers: ['dry-run'] },
    });
    await startWorker(config, true);
    const unconfirmed = await approvedRun(config, unique('L1'));
    const confirmed = await approvedRun(config, unique('L2'));
    await eventually(async () => (await confirmed.query(getStateQuery)).stage === 'contained', 30_000, 'holding');
    await assert.rejects(confirmContainment(env.client, confirmed.workflowId, { approver: 'jdoe', via: 'cli' }), WorkflowUpdateFailedError);
    const lease = await confirmContainment(env.client, confirmed.workflowId, { approver: 'alice', via: 'cli' });
    assert.equal(lease.status, 'confirmed');

    const [a, b] = await Promise.all([unconfirmed.result(), confirmed.result()]);
    assert.equal(a.outcome, 'containment-simulated');
    assert.equal(a.lease.status, 're-escalated');
    assert.equal(a.lease.escalatedVia, 'log');
    assert.equal(a.release.status, 'window-closed');
    assert.ok((await activityTypes(unconfirmed)).includes('escalateToTier2'));
    assert.equal(b.lease.status, 'confirmed');
    assert.equal(b.lease.confirmedBy, 'alice');
    assert.ok(!(await activityTypes(confirmed)).includes('escalateToTier2'));
  });
});
