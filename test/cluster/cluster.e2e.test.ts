/**
 * The production path on a real Temporal cluster: Temporal server v1.29.1 (frontend, history, matching, worker) on
 * PostgreSQL with SQL visibility and 8 history shards (scripts/lib/cluster.ts), `temporal.devServer.enabled: false`,
 * and the app as separate processes: two `start --http-only` and two `start --worker-only`, exactly as an operator
 * runs them. Nothing here is in-process: every role is a child process of the real CLI.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { stringify } from 'yaml';
import { randomClusterBasePort, startCluster, type RunningCluster } from '../../scripts/lib/cluster';
import type { RunState } from '../../src/contracts/playbook';
import { parseConfig } from '../../src/config';
import { decideApproval, playbookInput } from '../../src/temporal/playbook-runs';
import { exfilToCloudStorage } from '../../workflows';
import { getStateQuery } from '../../workflows/messages';
import { FakeCrowdStrike } from '../fakes/containment-vendors';
import { StandIn } from '../fakes/stand-in';
import { escalatingAlert, fixtureData, JDOE_DAILY, rawTestConfig, tempDir, unique, writeDataDir } from '../helpers/fixtures';
import { freePort, freePorts } from '../helpers/net';
import { eventually, testDataConverter } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const NAMESPACE = 'soar';

interface App {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

describe('on a real Temporal cluster (server v1.29.1, PostgreSQL, 8 history shards)', { timeout: 900_000 }, () => {
  let cluster: RunningCluster;
  let client: Client;
  const apps: App[] = [];
  const standIn = new StandIn();
  const dir = tempDir('soar-cluster-');

  // Every process its own SDK metrics port, each free when taken (a random pick once collided with a port in use).
  let metricsPorts: number[] = [];
  const metricsPort = (): number => {
    const port = metricsPorts.shift();
    if (port === undefined) throw new Error('out of metrics ports: take more in before()');
    return port;
  };

  before(async () => {
    metricsPorts = await freePorts(16);
    chmodSync(dir, 0o755); // PostgreSQL runs as its own user and must reach its data directory inside
    await standIn.start();
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        cluster = await startCluster({
          dir: path.join(dir, 'cluster'),
          basePort: randomClusterBasePort(),
          progress: (l) => process.stderr.write(`  cluster: ${l}\n`),
        });
        break;
      } catch (err) {
        lastErr = err;
        if (!/already in use/.test((err as Error).message)) throw err;
      }
    }
    if (!cluster) throw lastErr as Error;
    const connection = await Connection.connect({ address: cluster.address });
    client = new Client({ connection, namespace: NAMESPACE, dataConverter: testDataConverter });
  });

  after(async () => {
    for (const app of apps) if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
    await client?.connection.close();
    await cluster?.stop();
    await standIn.stop();
  });

  // Six active employees like jdoe (HR record, managed laptop, 20 MiB a day): their benign uploads close benign.
  const USERS = ['jdoe', 'analyst1', 'analyst2', 'analyst3', 'analyst4', 'analyst5'];
  const hostOf = (user: string) => (user === 'jdoe' ? 'LAPTOP-JD01' : `LAPTOP-${user.toUpperCase()}`);
  const jdoe = fixtureData['hr-directory.yaml'].users[0] as Record<string, unknown>;
  const dataDir = writeDataDir({
    'hr-directory.yaml': { users: USERS.map((user) => ({ ...jdoe, user, displayName: user })) },
    'devices.yaml': { devices: USERS.map((user) => ({ host: hostOf(user), managed: true, owner: user, cloudStorageAllowed: true })) },
    'upload-baselines.yaml': { baselines: USERS.map((user) => ({ user, dailyBytes: JDOE_DAILY })) },
  });

  /** A configuration file for one process of the deployment. */
  function configFile(name: string, namespace: string, extra: { httpPort?: number } = {}): string {
    const stateDir = tempDir(`soar-${name}-`);
    const raw = rawTestConfig({ address: cluster.address, namespace, taskQueue: 'soar-playbooks', stateDir, dataDir });
    const config = {
      ...raw,
      http: { host: '127.0.0.1', port: extra.httpPort ?? 0 },
      // Every process its own SDK metrics endpoint (they share a machine here).
      metrics: { sdkPrometheusAddress: `127.0.0.1:${metricsPort()}` },
      vendors: {
        servicenow: { instanceUrl: standIn.url, auth: { type: 'basic', username: 'soar', password: 'snow-pass' }, requestTimeout: '60s' },
      },
      enrichment: { ...(raw.enrichment as Record<string, unknown>), changes: { source: 'servicenow' } },
      log: { level: 'info' },
    };
    const file = path.join(stateDir, 'soar.yaml');
    writeFileSync(file, stringify(config));
    return file;
  }

  function run(args: string[], config: string, extraEnv: Record<string, string> = {}): App {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...extraEnv, SOAR_CONFIG: config },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const app = { child, output: () => output, exited };
    apps.push(app);
    return app;
  }

  test('`soar setup --create-namespace` creates the namespace and registers the search attributes; a second run finds them', async () => {
    const config = configFile('setup', NAMESPACE);
    const first = run(['setup', '--create-namespace'], config);
    assert.equal(await first.exited, 0, first.output());
    assert.match(first.output(), /Namespace soar: created/);
    assert.match(first.output(), /Search attributes added: AlertSource \(KEYWORD\).*BytesOut \(INT\); 0 already there/);
    assert.match(first.output(), /Payload encryption: configured keys, 1 key/);
    const second = run(['setup'], config);
    assert.equal(await second.exited, 0, second.output());
    assert.match(second.output(), /Namespace soar: already there/);
    assert.match(second.output(), /Search attributes: all 11 already there/);
  });

  test('a start against a namespace without the search attributes refuses, with the command that fixes it', async () => {
    await client.workflowService.registerNamespace({ namespace: 'bare', workflowExecutionRetentionPeriod: msToTs('1 day') });
    const config = configFile('bare', 'bare', { httpPort: await freePort() });
    const worker = await eventually(
      async () => {
        const app = run(['start', '--worker-only'], config);
        const code = await app.exited;
        // A namespace registered a moment ago may not be known to the frontend yet: that is "does not exist".
        return /does not exist/.test(app.output()) ? null : { code, output: app.output() };
      },
      60_000,
      'the bare namespace to be known',
    );
    assert.equal(worker.code, 6, worker.output);
    assert.match(worker.output, /Temporal namespace "bare" lacks the search attributes AlertSource \(KEYWORD\)/);
    assert.match(worker.output, /run `npm run soar -- setup` once against this namespace/);
    const http = run(['start', '--http-only'], config);
    assert.equal(await http.exited, 6, http.output());
    assert.match(http.output(), /lacks the search attributes/);
  });

  test('two HTTP processes and two workers: alerts to both, runs on both workers; a worker killed mid-enrichment, the run finishes on the other', async () => {
    // ServiceNow (the change-record lookup, one of the enrichment reads) answers at once unless the test holds it.
    let hold: { release: () => void; arrived: () => void } | null = null;
    standIn.on('GET', '/api/now/table/change_request', async () => {
      const h = hold;
      if (h) {
        h.arrived();
        await new Promise<void>((resolve) => (h.release = resolve));
      }
      return { body: { result: [] } };
    });

    // Idempotent: the namespace is ready whether or not the setup test ran first.
    const setup = run(['setup', '--create-namespace'], configFile('setup2', NAMESPACE));
    assert.equal(await setup.exited, 0, setup.output());

    const httpPorts = [await freePort(), await freePort()];
    const https = httpPorts.map((port, i) => run(['start', '--http-only'], configFile(`http${i}`, NAMESPACE, { httpPort: port })));
    const workers = [0, 1].map((i) => run(['start', '--worker-only'], configFile(`worker${i}`, NAMESPACE)));
    for (const app of [...https, ...workers]) {
      await eventually(
        () => Promise.resolve(app.output().includes('"msg":"Ready"') || app.child.exitCode !== null),
        180_000,
        'a process to be ready',
      );
      assert.equal(app.child.exitCode, null, app.output());
    }

    const post = async (port: number, body: Record<string, unknown>) => {
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/siem/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      assert.ok(res.status === 200 || res.status === 202, `webhook answered ${res.status}: ${text}`);
      return JSON.parse(text) as { workflowId?: string; caseIndexId?: string; pending?: boolean };
    };
    const benign = (user: string) => ({
      alertId: unique('cl'),
      user,
      host: hostOf(user),
      srcIp: '10.20.30.40',
      destDomain: 'acme.sharepoint.com',
      bytesOut: 10 * 1024 * 1024,
      eventTime: '2026-11-24T09:00:00.000Z',
      severity: 'low',
      ruleName: 'Large upload to cloud storage',
    });

    // Twelve alerts of five people, alternating between the two HTTP processes (a person's later alerts join their case).
    const users = USERS.slice(0, 5);
    const sent = Array.from({ length: 12 }, (_, i) => benign(users[i % users.length] as string));
    const answers = await Promise.all(sent.map((body, i) => post(httpPorts[i % 2] as number, body)));
    assert.equal(answers.length, 12);
    const list = async (query: string) => {
      const ids: string[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowType = 'exfilToCloudStorage' AND ${query}` })) ids.push(wf.workflowId);
      return ids;
    };
    const runIds = await eventually(
      async () => {
        const [done, running] = [await list(`ExecutionStatus = 'Completed'`), await list(`ExecutionStatus = 'Running'`)];
        return done.length >= users.length && running.length === 0 ? done : null;
      },
      180_000,
      'the runs to complete',
    ).catch(async (err: unknown) => {
      const running = await list(`ExecutionStatus = 'Running'`);
      const first = running[0];
      const d = first ? await client.workflow.getHandle(first).describe() : null;
      process.stderr.write(
        `running: ${running.length}; first ${first}: ${JSON.stringify(d?.raw.pendingActivities ?? [])}\n` +
          [...https, ...workers].map((a) => a.output().slice(-3000)).join('\n-----\n'),
      );
      throw err;
    });
    const identities = new Set<string>();
    for (const id of runIds) {
      const history = await client.workflow.getHandle(id).fetchHistory();
      for (const e of history.events ?? []) {
        const identity = e.activityTaskStartedEventAttributes?.identity ?? e.workflowTaskStartedEventAttributes?.identity;
        if (identity) identities.add(identity.split('@')[0] as string);
      }
    }
    const workerPids = workers.map((w) => String(w.child.pid));
    process.stderr.write(`  runs completed: ${runIds.length}; tasks taken by worker pids ${[...identities].join(', ')}\n`);
    for (const pid of workerPids) assert.ok(identities.has(pid), `worker ${pid} took part (saw ${[...identities].join(', ')})`);

    // Kill the worker that is in the middle of an enrichment read, for real (SIGKILL), while the vendor holds it.
    let arrived!: () => void;
    const arrivedP = new Promise<void>((resolve) => (arrived = resolve));
    const victim = USERS[5] as string;
    hold = { release: () => {}, arrived };
    const answer = await post(httpPorts[0] as number, benign(victim));
    await arrivedP;
    const runId = await eventually(
      async () => {
        for await (const wf of client.workflow.list({ query: `WorkflowType = 'exfilToCloudStorage' AND AlertUser = '${victim}'` }))
          return wf.workflowId;
        return null;
      },
      60_000,
      'the run of the held alert',
    );
    const holder = await eventually(
      async () => {
        const d = await client.workflow.getHandle(runId).describe();
        return d.raw.pendingActivities?.find((a) => a.lastWorkerIdentity)?.lastWorkerIdentity ?? null;
      },
      30_000,
      'the pending enrichment activity',
    );
    const killed = workers.find((w) => holder.startsWith(`${w.child.pid}@`));
    assert.ok(killed, `the activity runs on one of our workers (${holder}); answer ${JSON.stringify(answer)}`);
    killed.child.kill('SIGKILL');
    await killed.exited;
    hold.release();
    hold = null;
    const survivor = workers.find((w) => w !== killed) as App;

    const state = await eventually(
      async () => {
        const d = await client.workflow.getHandle(runId).describe();
        return d.status.name === 'COMPLETED' ? ((await client.workflow.getHandle(runId).result()) as RunState) : null;
      },
      180_000,
      'the run to finish on the surviving worker',
    );
    assert.equal(state.status, 'closed');
    assert.equal(state.decision?.outcome, 'benign', JSON.stringify(state.decision?.reasons));
    const history = await client.workflow.getHandle(runId).fetchHistory();
    const completedBy = (history.events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes?.identity ?? '');
    assert.ok(
      completedBy.some((id) => id.startsWith(`${survivor.child.pid}@`)),
      `the retried enrichment ran on the surviving worker (${completedBy.join(', ')})`,
    );
    // Either HTTP process serves the run's state (they share nothing but the cluster).
    const view = (await (await fetch(`http://127.0.0.1:${httpPorts[1]}/runs/${runId}`)).json()) as RunState;
    assert.equal(view.status, 'closed');
    assert.equal(view.alert.user, victim);
  });

  test('a worker killed (SIGKILL) right after it asked CrowdStrike to contain: the run finishes on the other worker, one request at the vendor, credited to this run', async () => {
    const setup = run(['setup', '--create-namespace'], configFile('setup3', NAMESPACE));
    assert.equal(await setup.exited, 0, setup.output());
    const falcon = new FakeCrowdStrike();
    await falcon.start();
    try {
      const deviceId = falcon.addDevice('LAPTOP-JD01');
      const raw = rawTestConfig({ address: cluster.address, namespace: NAMESPACE, taskQueue: 'soar-contain', dataDir });
      raw.vendors = { crowdstrike: { baseUrl: falcon.url, clientId: falcon.clientId, clientSecret: 'env:FALCON_SECRET' } };
      raw.containment = {
        isolation: { provider: 'crowdstrike', pollInterval: 200, verifyTimeout: '90s', heartbeatTimeout: '3s' },
        access: { providers: ['dry-run'] },
      };
      const secrets = { FALCON_SECRET: falcon.clientSecret };
      const config = parseConfig(raw, secrets);
      const workerFile = (name: string) => {
        const file = path.join(tempDir(`soar-${name}-`), 'soar.yaml');
        writeFileSync(
          file,
          stringify({
            ...raw,
            log: { level: 'info' },
            dataDir: tempDir('soar-state-'),
            metrics: { sdkPrometheusAddress: `127.0.0.1:${metricsPort()}` },
          }),
        );
        return file;
      };
      const workers = [0, 1].map((i) => run(['start', '--worker-only'], workerFile(`contain${i}`), secrets));
      for (const w of workers) {
        await eventually(() => Promise.resolve(w.output().includes('"msg":"Ready"') || w.child.exitCode !== null), 180_000, 'a worker');
        assert.equal(w.child.exitCode, null, w.output());
      }

      // Right after CrowdStrike has taken the request (the device is on its way to contained), the worker that sent
      // it dies without warning; its answer is never read.
      const workflowId = unique('cluster-contain');
      let killed: App | null = null;
      falcon.around('POST', '/devices/entities/devices-actions/v2', async (req, next) => {
        const answer = await next();
        if (req.query.get('action_name') === 'contain' && !killed) {
          const d = await client.workflow.getHandle(workflowId).describe();
          const identity = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'isolateEndpoint')?.lastWorkerIdentity ?? '';
          killed = workers.find((w) => identity.startsWith(`${w.child.pid}@`)) ?? null;
          killed?.child.kill('SIGKILL');
        }
        return answer;
      });

      const handle = await client.workflow.start(exfilToCloudStorage, {
        taskQueue: 'soar-contain',
        workflowId,
        args: [playbookInput(config, escalatingAlert({ user: 'jdoe', host: 'LAPTOP-JD01' }))],
      });
      await eventually(async () => (await handle.query(getStateQuery)).stage === 'awaiting-approval', 120_000, 'the approval request');
      await decideApproval(client, workflowId, { decision: 'approve', approver: 'alice', via: 'cli' });
      const state = await eventually(
        async () => {
          const s = await handle.query(getStateQuery);
          const isolation = s.containment.find((r) => r.action === 'isolate-endpoint');
          return isolation ? s : null;
        },
        180_000,
        'the isolation result',
      );
      assert.ok(killed, 'a worker was killed right after the contain request');
      const isolation = state.containment.find((r) => r.action === 'isolate-endpoint');
      const contains = falcon.actionCalls('contain').filter((r) => (r.json as { ids: string[] }).ids.includes(deviceId)).length;
      process.stderr.write(
        `  contain requests at CrowdStrike: ${contains}; result ${isolation?.status} (${isolation?.changedBy}): ${isolation?.detail}\n`,
      );
      assert.equal(contains, 1, 'exactly one contain request at the vendor');
      assert.equal(isolation?.status, 'done', isolation?.detail);
      assert.equal(isolation?.changedBy, 'this-run', isolation?.detail);
      const survivor = workers.find((w) => w !== killed) as App;
      const history = await handle.fetchHistory();
      const isolatedBy = (history.events ?? [])
        .filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes?.identity ?? '');
      assert.ok(
        isolatedBy.some((id) => id.startsWith(`${survivor.child.pid}@`)),
        `the survivor finished it (${isolatedBy.join(', ')})`,
      );
    } finally {
      await falcon.stop();
    }
  });
});
