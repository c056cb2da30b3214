/**
 * Containment truth after a crash. The worker runs in a child process (the project's own worker, wiring and
 * configuration) and is killed for real (SIGKILL) at each point where the fact "this run asked" could be lost:
 * before the request, right after it while the vendor is still pending, right after it with the vendor finishing
 * before the restart, and after a 5xx that follows the vendor's action. A new worker process then finishes the run.
 * Each must end with exactly one request at the vendor, a result that says this run made the change, and a release
 * that undoes it exactly once and says so, in the result, the report and GET /runs/:id. For CrowdStrike, Defender
 * and SentinelOne (one worker crash per vendor, its four runs each stopped at its own point), then for the Okta app
 * unassignment and the Dropbox suspension (one crash for three runs; these vendors act at once, so "pending" and
 * "finished" are the same point).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { parseConfig, type Config } from '../../src/config';
import type { ContainmentActionResult, RunState } from '../../src/contracts/playbook';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { decideApproval, playbookInput, releaseContainment } from '../../src/temporal/playbook-runs';
import { exfilToCloudStorage } from '../../workflows';
import { getStateQuery } from '../../workflows/messages';
import {
  ENTRA_TENANT,
  FakeCrowdStrike,
  FakeDefender,
  FakeDropbox,
  FakeOkta,
  FakeSentinelOne,
  type Around,
} from '../fakes/containment-vendors';
import type { RecordedRequest, StandInResponse } from '../fakes/stand-in';
import { escalatingAlert, fixtureData, rawTestConfig, tempDir, unique, writeDataDir } from '../helpers/fixtures';
import { eventually, startTestServer, workflowBundle } from '../helpers/temporal';
import { START_NODE_ARGS } from '../helpers/node-args';

const ROOT = path.resolve(__dirname, '../..');
const WORKER = path.join(__dirname, 'worker-process.ts');
const silent = createLogger({ level: 'silent' });

type Point = 'before-request' | 'after-request-pending' | 'after-request-finished' | '5xx-after-action';
const POINTS: Point[] = ['before-request', 'after-request-pending', 'after-request-finished', '5xx-after-action'];

/** The worker as its own process: started, and killed without warning. */
class WorkerProcess {
  output = '';
  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async start(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
    const child = spawn(process.execPath, [...START_NODE_ARGS, WORKER], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const worker = new WorkerProcess(child);
    let exited = false;
    child.once('exit', () => (exited = true));
    await eventually(
      () => {
        if (exited) return Promise.reject(new Error(`the worker process exited while starting:\n${worker.output}`));
        return Promise.resolve(worker.output.includes('worker-ready'));
      },
      120_000,
      'the worker process to poll',
    );
    return worker;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: no graceful shutdown, nothing flushed. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** Requests held at their crash point until the worker is dead. */
class CrashGate {
  readonly reached = new Set<string>();
  private open!: () => void;
  readonly killed = new Promise<void>((resolve) => (this.open = resolve));

  async hold(name: string): Promise<void> {
    this.reached.add(name);
    await this.killed;
  }

  release(): void {
    this.open();
  }
}

/** How one vendor's wire shows a device's state read and its isolation request, and how to steer its progress. */
interface EdrVendor {
  provider: 'crowdstrike' | 'microsoft-defender' | 'sentinelone';
  configure: (raw: Record<string, unknown>) => Record<string, string>;
  addDevice: (host: string) => string;
  /** The state read of the request step (after the plan's own reads) is the `n`th read of the device. */
  requestStepRead: number;
  wrapStateReads(
    around: (deviceId: string | undefined, req: RecordedRequest, next: () => Promise<StandInResponse>) => Promise<StandInResponse>,
  ): void;
  wrapRequests(deviceId: string, around: Around): void;
  serverError: StandInResponse;
  isolateRequests(deviceId: string): number;
  liftRequests(deviceId: string): number;
  hold(deviceId: string): void;
  unhold(deviceId: string): void;
  finish(deviceId: string): void;
  state(deviceId: string): 'normal' | 'isolated' | 'other';
}

describe('containment truth after a worker crash (SIGKILL) or a lost answer', () => {
  let env: TestWorkflowEnvironment;
  let codePath: string;
  const falcon = new FakeCrowdStrike();
  const defender = new FakeDefender();
  const s1 = new FakeSentinelOne();
  const okta = new FakeOkta();
  const dropbox = new FakeDropbox();
  const workers: WorkerProcess[] = [];
  const APP = '0oaDropboxApp';

  before(async () => {
    env = await startTestServer();
    await Promise.all([falcon.start(), defender.start(), s1.start(), okta.start(), dropbox.start()]);
    codePath = path.join(tempDir('soar-chaos-'), 'workflow-bundle.js');
    writeFileSync(codePath, (await workflowBundle()).code);
  });

  after(async () => {
    for (const w of workers) await w.kill();
    await Promise.all([falcon.stop(), defender.stop(), s1.stop(), okta.stop(), dropbox.stop()]);
    await env?.teardown();
  });

  function configFile(
    configure: (raw: Record<string, unknown>) => Record<string, string>,
    dataDir?: string,
  ): { config: Config; processEnv: NodeJS.ProcessEnv } {
    const raw = rawTestConfig({ address: env.address, taskQueue: unique('chaos'), ...(dataDir ? { dataDir } : {}) }) as Record<
      string,
      unknown
    > & {
      playbook: Record<string, unknown>;
    };
    raw.playbook.containment = { maxDevicesPerRun: 1, releaseWindow: '10m' };
    raw.containment = {
      isolation: { provider: 'dry-run', pollInterval: 200, verifyTimeout: '90s', heartbeatTimeout: '2s' },
      access: { providers: ['dry-run'] },
    };
    const secrets = configure(raw);
    const config = parseConfig(raw, secrets);
    const file = path.join(tempDir('soar-chaos-'), 'soar.yaml');
    writeFileSync(file, stringify(raw));
    return { config, processEnv: { ...process.env, ...secrets, SOAR_CONFIG: file, SOAR_WORKFLOW_BUNDLE: codePath } };
  }

  async function startWorker(processEnv: NodeJS.ProcessEnv): Promise<WorkerProcess> {
    const worker = await WorkerProcess.start(processEnv);
    workers.push(worker);
    return worker;
  }

  async function approvedRun(config: Config, host: string, user = 'jdoe'): Promise<WorkflowHandle<typeof exfilToCloudStorage>> {
    const handle = await env.client.workflow.start(exfilToCloudStorage, {
      taskQueue: config.temporal.taskQueue,
      workflowId: unique('chaos-run'),
      args: [playbookInput(config, escalatingAlert({ host, user }))],
    });
    await eventually(
      async () => {
        const s = await handle.query(getStateQuery);
        return s.stage === 'awaiting-approval' && s.approval.notifiedVia !== null;
      },
      60_000,
      'the approval request',
    );
    await decideApproval(env.client, handle.workflowId, { decision: 'approve', approver: 'alice', via: 'cli' });
    return handle;
  }

  async function holding(handle: WorkflowHandle<typeof exfilToCloudStorage>): Promise<RunState> {
    return eventually(
      async () => {
        const s = await handle.query(getStateQuery);
        return s.stage === 'contained' && s.release.windowEndsAt !== null ? s : null;
      },
      120_000,
      `${handle.workflowId} to hold its containment`,
    );
  }

  /** GET /runs/:id, from the service's own HTTP app. */
  async function runView(config: Config, workflowId: string): Promise<RunState> {
    const app = buildApp({ config, client: env.client, logger: silent });
    try {
      const res = await app.inject({ method: 'GET', url: `/runs/${workflowId}` });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    } finally {
      await app.close();
    }
  }

  function assertByThisRun(result: ContainmentActionResult | undefined, what: string): void {
    assert.ok(result, `${what}: no result`);
    assert.equal(result.status, 'done', `${what}: ${result.detail}`);
    assert.equal(result.changedBy, 'this-run', `${what}: ${result.detail}`);
    assert.notEqual(result.alreadyInState, true, `${what}: ${result.detail}`);
    assert.match(result.detail, /by this run/, what);
  }

  const vendors: EdrVendor[] = [
    {
      provider: 'crowdstrike',
      configure: (raw) => {
        raw.vendors = { crowdstrike: { baseUrl: falcon.url, clientId: falcon.clientId, clientSecret: 'env:FALCON_SECRET' } };
        (raw.containment as { isolation: Record<string, unknown> }).isolation.provider = 'crowdstrike';
        return { FALCON_SECRET: falcon.clientSecret };
      },
      addDevice: (host) => falcon.addDevice(host),
      // The plan reads the device twice (its host name, then its state); the request step's first read is the third.
      requestStepRead: 3,
      wrapStateReads: (around) =>
        falcon.around('GET', '/devices/entities/devices/v2', (req, next) => around(req.query.getAll('ids')[0], req, next)),
      wrapRequests: (() => {
        const byDevice = new Map<string, Around>();
        falcon.around('POST', '/devices/entities/devices-actions/v2', (req, next) => {
          const id = (req.json as { ids: string[] }).ids[0] ?? '';
          const around = req.query.get('action_name') === 'contain' ? byDevice.get(id) : undefined;
          return around ? around(req, next) : next();
        });
        return (deviceId: string, around: Around) => byDevice.set(deviceId, around);
      })(),
      serverError: { status: 500, body: { meta: {}, resources: null, errors: [{ code: 500, message: 'Internal Server Error' }] } },
      isolateRequests: (id) => falcon.actionCalls('contain').filter((r) => (r.json as { ids: string[] }).ids.includes(id)).length,
      liftRequests: (id) => falcon.actionCalls('lift_containment').filter((r) => (r.json as { ids: string[] }).ids.includes(id)).length,
      hold: (id) => void (falcon.devices.get(id)!.pendingReads = 1_000_000),
      unhold: (id) => void (falcon.devices.get(id)!.pendingReads = 1),
      finish: (id) => void (falcon.devices.get(id)!.status = 'contained'),
      state: (id) => {
        const s = falcon.devices.get(id)?.status;
        return s === 'contained' ? 'isolated' : s === 'normal' ? 'normal' : 'other';
      },
    },
    {
      provider: 'microsoft-defender',
      configure: (raw) => {
        raw.vendors = {
          microsoftEntra: {
            tenantId: ENTRA_TENANT,
            clientId: 'soar-app',
            clientSecret: 'env:ENTRA_SECRET',
            authorityUrl: defender.url,
            defenderUrl: defender.url,
          },
        };
        (raw.containment as { isolation: Record<string, unknown> }).isolation.provider = 'microsoft-defender';
        return { ENTRA_SECRET: defender.clientSecret };
      },
      addDevice: (host) => defender.addMachine(`${host.toLowerCase()}.corp.contoso.com`),
      // The plan lists the machine's actions once; the request step's first list looks for this run's own action.
      requestStepRead: 2,
      wrapStateReads: (around) =>
        defender.around('GET', '/api/machineactions', (req, next) =>
          around(/^machineId eq '([^']*)'$/.exec(req.query.get('$filter') ?? '')?.[1], req, next),
        ),
      wrapRequests: (id, around) => defender.around('POST', `/api/machines/${id}/isolate`, around),
      serverError: { status: 500, body: { error: { code: 'InternalServerError', message: 'An unexpected error occurred.' } } },
      isolateRequests: (id) => defender.calls('POST', `/api/machines/${id}/isolate`).length,
      liftRequests: (id) => defender.calls('POST', `/api/machines/${id}/unisolate`).length,
      hold: (id) => void (latestAction(id)!.reads = 1_000_000),
      unhold: (id) => void (latestAction(id)!.reads = 1),
      finish: (id) => void (latestAction(id)!.status = 'Succeeded'),
      state: (id) => {
        const a = latestAction(id);
        if (!a) return 'normal';
        if (a.status !== 'Succeeded') return 'other';
        return a.type === 'Isolate' ? 'isolated' : 'normal';
      },
    },
    {
      provider: 'sentinelone',
      configure: (raw) => {
        raw.vendors = { sentinelone: { baseUrl: s1.url, apiToken: 'env:S1_TOKEN' } };
        (raw.containment as { isolation: Record<string, unknown> }).isolation.provider = 'sentinelone';
        return { S1_TOKEN: s1.apiToken };
      },
      addDevice: (host) => s1.addAgent(host),
      // The plan looks the agent up by name, then reads its state by ID; the request step's first read by ID is the second.
      requestStepRead: 2,
      wrapStateReads: (around) =>
        s1.around('GET', '/web/api/v2.1/agents', (req, next) => around(req.query.get('ids') ?? undefined, req, next)),
      wrapRequests: (() => {
        const byAgent = new Map<string, Around>();
        s1.around('POST', '/web/api/v2.1/agents/actions/disconnect', (req, next) => {
          const id = (req.json as { filter: { ids: string[] } }).filter.ids[0] ?? '';
          const around = byAgent.get(id);
          return around ? around(req, next) : next();
        });
        return (agentId: string, around: Around) => byAgent.set(agentId, around);
      })(),
      serverError: { status: 500, body: { errors: [{ code: 5000010, detail: null, title: 'Server Error' }] } },
      isolateRequests: (id) =>
        s1
          .calls('POST', '/web/api/v2.1/agents/actions/disconnect')
          .filter((r) => (r.json as { filter: { ids: string[] } }).filter.ids.includes(id)).length,
      liftRequests: (id) =>
        s1
          .calls('POST', '/web/api/v2.1/agents/actions/connect')
          .filter((r) => (r.json as { filter: { ids: string[] } }).filter.ids.includes(id)).length,
      hold: (id) => void (s1.agents.get(id)!.reads = 1_000_000),
      unhold: (id) => void (s1.agents.get(id)!.reads = 1),
      finish: (id) => void (s1.agents.get(id)!.networkStatus = 'disconnected'),
      state: (id) => {
        const s = s1.agents.get(id)?.networkStatus;
        return s === 'disconnected' ? 'isolated' : s === 'connected' ? 'normal' : 'other';
      },
    },
  ];

  function latestAction(machineId: string) {
    return defender.actions.filter((a) => a.machineId === machineId).at(-1);
  }

  for (const vendor of vendors) {
    test(`${vendor.provider}: a crash or a 5xx at each point ends with one request, credited to this run, lifted once`, async () => {
      const { config, processEnv } = configFile(vendor.configure);
      const gate = new CrashGate();
      const runs = POINTS.map((point) => {
        const host = unique(`CH${POINTS.indexOf(point)}`).toUpperCase();
        return { point, host, deviceId: vendor.addDevice(host), stateReads: 0 };
      });
      vendor.wrapStateReads(async (deviceId, _req, next) => {
        const run = runs.find((r) => r.deviceId === deviceId);
        if (run && ++run.stateReads === vendor.requestStepRead && run.point === 'before-request') await gate.hold(run.point);
        return next();
      });
      for (const run of runs) {
        let fired = false;
        vendor.wrapRequests(run.deviceId, async (_req, next) => {
          if (fired) return next();
          fired = true;
          switch (run.point) {
            case 'after-request-pending': {
              const answer = await next();
              vendor.hold(run.deviceId);
              await gate.hold(run.point);
              return answer;
            }
            case 'after-request-finished': {
              const answer = await next();
              await gate.hold(run.point);
              return answer;
            }
            case '5xx-after-action':
              await next(); // the vendor acted; its answer is lost
              gate.reached.add(run.point);
              return vendor.serverError;
            default:
              return next();
          }
        });
      }

      const first = await startWorker(processEnv);
      const handles = await Promise.all(runs.map((r) => approvedRun(config, r.host)));
      await eventually(() => Promise.resolve(gate.reached.size === POINTS.length), 120_000, 'every run at its crash point');
      await first.kill();
      // While no worker runs, the vendor finishes what it was asked (the retry comes seconds later).
      for (const run of runs) if (run.point === 'after-request-finished') vendor.finish(run.deviceId);
      gate.release();
      const second = await startWorker(processEnv);
      for (const run of runs) if (run.point === 'after-request-pending') vendor.unhold(run.deviceId);

      for (const [i, run] of runs.entries()) {
        const handle = handles[i]!;
        const what = `${vendor.provider} ${run.point}`;
        const held = await holding(handle);
        assertByThisRun(
          held.containment.find((c) => c.action === 'isolate-endpoint'),
          what,
        );
        assert.equal(vendor.isolateRequests(run.deviceId), 1, `${what}: isolation requests at the vendor`);
        assert.equal(vendor.state(run.deviceId), 'isolated', what);

        const release = await releaseContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli' });
        assert.equal(release.status, 'released', what);
        assertByThisRun(
          release.results.find((r) => r.action === 'lift-endpoint-isolation'),
          `${what} (lift)`,
        );
        assert.equal(vendor.liftRequests(run.deviceId), 1, `${what}: lift requests at the vendor`);
        await eventually(() => Promise.resolve(vendor.state(run.deviceId) === 'normal'), 30_000, `${what}: the device back to normal`);

        const final = await handle.result();
        assert.match(final.report?.markdown ?? '', /isolate-endpoint on .* \*\*done\*\* \(changed by this run\)/, what);
        assert.match(final.report?.markdown ?? '', /lift-endpoint-isolation on .* \*\*done\*\* \(changed by this run\)/, what);
        const view = await runView(config, handle.workflowId);
        assert.equal(view.containment.find((c) => c.action === 'isolate-endpoint')?.changedBy, 'this-run', what);
        assert.equal(view.release.results.find((r) => r.action === 'lift-endpoint-isolation')?.changedBy, 'this-run', what);
      }
      await second.kill();
    });
  }

  type AccessPoint = 'before-request' | 'after-request' | '5xx-after-action';
  const ACCESS_POINTS: AccessPoint[] = ['before-request', 'after-request', '5xx-after-action'];

  test('Okta app unassignment and Dropbox suspension, a crash or a 5xx at each point: one change each, credited to this run, undone once', async () => {
    // One subject per point (all escalate like jdoe), so the three runs share one worker crash without sharing state.
    const subjects = ACCESS_POINTS.map((point, i) => ({ point, user: `chaos${i}` }));
    const jdoe = fixtureData['hr-directory.yaml'].users[0]!;
    const dataDir = writeDataDir({
      'hr-directory.yaml': { users: subjects.map(({ user }) => ({ ...jdoe, user, displayName: user })) },
      'upload-baselines.yaml': { baselines: subjects.map(({ user }) => ({ ...fixtureData['upload-baselines.yaml'].baselines[0]!, user })) },
    });
    const { config, processEnv } = configFile((raw) => {
      raw.vendors = {
        okta: { orgUrl: okta.url, auth: { type: 'ssws', token: 'env:OKTA_TOKEN' } },
        dropbox: { baseUrl: dropbox.url, accessToken: 'env:DROPBOX_TOKEN' },
      };
      (raw.containment as { access: Record<string, unknown> }).access = {
        providers: ['okta', 'dropbox'],
        okta: { userTemplate: '{user}@acme.com', unassignAppId: APP },
        dropbox: { userTemplate: '{user}@acme.com' },
      };
      return { OKTA_TOKEN: okta.apiToken, DROPBOX_TOKEN: dropbox.accessToken };
    }, dataDir);
    const gate = new CrashGate();
    const runs = subjects.map(({ point, user }) => {
      const email = `${user}@acme.com`;
      const userId = okta.addUser(email);
      dropbox.addMember(email, 'active');
      return { point, user, email, userId, assignment: `/api/v1/apps/${APP}/users/${userId}` };
    });
    // Users added after the app need their assignment routes: add the app again, then assign each directly.
    okta.addApp(APP);
    for (const run of runs) okta.assignments.get(APP)?.set(run.userId, 'USER');

    const emailOf = (req: RecordedRequest) =>
      (req.json as { user?: { email?: string }; members?: { email: string }[] }).user?.email ??
      (req.json as { members?: { email: string }[] }).members?.[0]?.email;
    const reads = new Map<string, number>();
    // The observation reads once; the change step's own read, just before the change, is the second.
    const beforeChange = (key: string, point: AccessPoint) => async (next: () => Promise<StandInResponse>) => {
      const n = (reads.get(key) ?? 0) + 1;
      reads.set(key, n);
      if (n === 2 && point === 'before-request') await gate.hold(key);
      return next();
    };
    const fired = new Set<string>();
    const afterChange = (key: string, point: AccessPoint, serverError: StandInResponse) => async (next: () => Promise<StandInResponse>) => {
      if (fired.has(key) || point === 'before-request') return next();
      fired.add(key);
      const answer = await next();
      if (point === '5xx-after-action') {
        gate.reached.add(key);
        return serverError;
      }
      await gate.hold(key);
      return answer;
    };
    for (const run of runs) {
      okta.around('GET', run.assignment, (_req, next) => beforeChange(`okta ${run.point}`, run.point)(next));
      okta.around('DELETE', run.assignment, (_req, next) =>
        afterChange(`okta ${run.point}`, run.point, {
          status: 500,
          body: { errorCode: 'E0000009', errorSummary: 'Internal Server Error', errorCauses: [] },
        })(next),
      );
    }
    const dropboxRun = (req: RecordedRequest) => runs.find((r) => r.email === emailOf(req));
    dropbox.around('POST', '/2/team/members/get_info_v2', (req, next) => {
      const run = dropboxRun(req);
      return run ? beforeChange(`dropbox ${run.point}`, run.point)(next) : next();
    });
    dropbox.around('POST', '/2/team/members/suspend', (req, next) => {
      const run = dropboxRun(req);
      return run
        ? afterChange(`dropbox ${run.point}`, run.point, {
            status: 500,
            body: { error_summary: 'internal_error/...', error: { '.tag': 'internal_error' } },
          })(next)
        : next();
    });

    const first = await startWorker(processEnv);
    const handles = await Promise.all(runs.map((r) => approvedRun(config, unique('ACC'), r.user)));
    await eventually(() => Promise.resolve(gate.reached.size === 2 * runs.length), 120_000, 'every change at its crash point');
    await first.kill();
    gate.release();
    const second = await startWorker(processEnv);

    for (const [i, run] of runs.entries()) {
      const handle = handles[i]!;
      const held = await holding(handle);
      const revokes = held.containment.filter((c) => c.action === 'revoke-cloud-storage-access');
      assertByThisRun(
        revokes.find((c) => c.provider === 'okta'),
        `okta ${run.point}`,
      );
      assert.equal(revokes.find((c) => c.provider === 'okta')?.ref?.appAssignment, 'removed', `okta ${run.point}`);
      assertByThisRun(
        revokes.find((c) => c.provider === 'dropbox'),
        `dropbox ${run.point}`,
      );
      assert.equal(okta.calls('DELETE', run.assignment).length, 1, `okta ${run.point}: unassignments`);
      const byEmail = (path: string) => dropbox.calls('POST', path).filter((r) => emailOf(r) === run.email).length;
      assert.equal(byEmail('/2/team/members/suspend'), 1, `dropbox ${run.point}: suspensions`);
      assert.equal(okta.assignments.get(APP)?.has(run.userId), false);
      assert.equal(dropbox.members.get(run.email)?.status, 'suspended');

      const release = await releaseContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli' });
      assert.equal(release.status, 'released', run.point);
      const restores = release.results.filter((r) => r.action === 'restore-cloud-storage-access');
      assertByThisRun(
        restores.find((r) => r.provider === 'okta'),
        `okta ${run.point} (restore)`,
      );
      assertByThisRun(
        restores.find((r) => r.provider === 'dropbox'),
        `dropbox ${run.point} (restore)`,
      );
      const reassigned = okta.calls('POST', `/api/v1/apps/${APP}/users`).filter((r) => (r.json as { id: string }).id === run.userId).length;
      assert.equal(reassigned, 1, `okta ${run.point}: re-assignments`);
      assert.equal(byEmail('/2/team/members/unsuspend'), 1, `dropbox ${run.point}: unsuspensions`);
      assert.equal(okta.assignments.get(APP)?.get(run.userId), 'USER');
      assert.equal(dropbox.members.get(run.email)?.status, 'active');
      const final = await handle.result();
      const who = new RegExp(`revoke-cloud-storage-access on ${run.user} via okta: \\*\\*done\\*\\* \\(changed by this run\\)`);
      assert.match(final.report?.markdown ?? '', who);
      assert.match(final.report?.markdown ?? '', /restore-cloud-storage-access on \S+ via dropbox: \*\*done\*\* \(changed by this run\)/);
      const view = await runView(config, handle.workflowId);
      assert.deepEqual(
        view.release.results
          .filter((r) => r.action === 'restore-cloud-storage-access')
          .map((r) => [r.provider, r.changedBy])
          .sort(),
        [
          ['dropbox', 'this-run'],
          ['okta', 'this-run'],
        ],
      );
    }
    await second.kill();
  });
});
