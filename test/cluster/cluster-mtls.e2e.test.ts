/**
 * mTLS between the app and a real Temporal cluster, as clusters and Temporal Cloud are reached: the frontend requires
 * a client certificate signed by its CA. The app (`start`, no dev server) with the right pair records and runs an
 * alert end to end; `soar setup` with a certificate from another CA, or with none, is refused.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { makeCa, makeCert, type CertPair } from '../../scripts/lib/certs';
import { randomClusterBasePort, startCluster, type RunningCluster } from '../../scripts/lib/cluster';
import type { RunState } from '../../src/contracts/playbook';
import { rawTestConfig, tempDir, unique } from '../helpers/fixtures';
import { freePort, freePorts } from '../helpers/net';
import { eventually, testDataConverter } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');

describe('mTLS to a real Temporal cluster', { timeout: 600_000 }, () => {
  const dir = tempDir('soar-mtls-');

  // Every process its own SDK metrics port, each free when taken (a random pick once collided with a port in use).
  let metricsPorts: number[] = [];
  const metricsPort = (): number => {
    const port = metricsPorts.shift();
    if (port === undefined) throw new Error('out of metrics ports: take more in before()');
    return port;
  };
  let cluster: RunningCluster;
  let caFile: string;
  let client: CertPair;
  let stranger: CertPair;
  const children: ReturnType<typeof spawn>[] = [];

  before(async () => {
    metricsPorts = await freePorts(16);
    chmodSync(dir, 0o755);
    const certs = path.join(dir, 'certs');
    mkdirSync(certs);
    const ca = await makeCa(certs, 'soar-test-ca');
    caFile = ca.certFile;
    const server = await makeCert(certs, 'frontend', ca, 'server', ['DNS:localhost', 'IP:127.0.0.1']);
    const internal = await makeCert(certs, 'temporal-internal', ca, 'client');
    client = await makeCert(certs, 'soar-worker', ca, 'client');
    stranger = await makeCert(certs, 'stranger', await makeCa(certs, 'other-ca'), 'client');
    for (let attempt = 0; ; attempt++) {
      try {
        cluster = await startCluster({
          dir: path.join(dir, 'cluster'),
          basePort: randomClusterBasePort(),
          tls: {
            caFile,
            serverCertFile: server.certFile,
            serverKeyFile: server.keyFile,
            internalClientCertFile: internal.certFile,
            internalClientKeyFile: internal.keyFile,
            serverName: 'localhost',
          },
          progress: (l) => process.stderr.write(`  cluster: ${l}\n`),
        });
        break;
      } catch (err) {
        if (attempt >= 2 || !/already in use/.test((err as Error).message)) throw err;
      }
    }
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await cluster?.stop();
  });

  function configFile(name: string, pair: CertPair | null, httpPort = 0): string {
    const stateDir = tempDir(`soar-${name}-`);
    const raw = rawTestConfig({ address: cluster.address, namespace: 'soar', taskQueue: 'soar-playbooks', stateDir });
    const config = {
      ...raw,
      temporal: {
        ...(raw.temporal as object),
        tls: {
          enabled: true,
          serverName: 'localhost',
          caCertFile: caFile,
          ...(pair ? { clientCertFile: pair.certFile, clientKeyFile: pair.keyFile } : {}),
        },
      },
      http: { host: '127.0.0.1', port: httpPort },
      metrics: { sdkPrometheusAddress: `127.0.0.1:${metricsPort()}` },
      log: { level: 'info' },
    };
    const file = path.join(stateDir, 'soar.yaml');
    writeFileSync(file, stringify(config));
    return file;
  }

  function run(args: string[], config: string) {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, SOAR_CONFIG: config },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  }

  test('a client certificate from another CA, or none, is refused', async () => {
    for (const pair of [stranger, null]) {
      const setup = run(['setup', '--create-namespace'], configFile('refused', pair));
      const code = await setup.exited;
      assert.notEqual(code, 0, setup.output());
      assert.doesNotMatch(setup.output(), /Namespace soar: (created|already there)/);
      assert.match(
        setup.output(),
        pair
          ? /Cannot connect to Temporal at .*TLS with client certificate .*stranger\.pem/
          : /TLS without a client certificate: a server that requires mTLS refuses/,
      );
      process.stderr.write(
        `  ${pair ? 'foreign certificate' : 'no certificate'}: exit ${code}: ${setup.output().trim().split('\n').at(-1)}\n`,
      );
    }
  });

  test('with the right pair: setup, then the app records and runs an alert end to end', async () => {
    const setup = run(['setup', '--create-namespace'], configFile('setup', client));
    assert.equal(await setup.exited, 0, setup.output());
    assert.match(setup.output(), /Namespace soar: created/);

    const httpPort = await freePort();
    const app = run(['start'], configFile('app', client, httpPort));
    await eventually(() => Promise.resolve(app.output().includes('"msg":"Ready"') || app.child.exitCode !== null), 180_000, 'the app');
    assert.equal(app.child.exitCode, null, app.output());

    const alertId = unique('mtls');
    const res = await fetch(`http://127.0.0.1:${httpPort}/webhooks/siem/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        alertId,
        user: 'jdoe',
        host: 'LAPTOP-JD01',
        srcIp: '10.20.30.40',
        destDomain: 'acme.sharepoint.com',
        bytesOut: 10 * 1024 * 1024,
        eventTime: '2026-11-24T09:00:00.000Z',
        severity: 'low',
        ruleName: 'Large upload to cloud storage',
      }),
    });
    const text = await res.text();
    assert.ok(res.status === 200 || res.status === 202, `${res.status} ${text}`);

    // The test's own client also needs the pair: the frontend takes no connection without one.
    const connection = await Connection.connect({
      address: cluster.address,
      tls: {
        serverNameOverride: 'localhost',
        serverRootCACertificate: readFileSync(caFile),
        clientCertPair: { crt: readFileSync(client.certFile), key: readFileSync(client.keyFile) },
      },
    });
    try {
      const temporal = new Client({ connection, namespace: 'soar', dataConverter: testDataConverter });
      const state = await eventually(
        async () => {
          for await (const wf of temporal.workflow.list({ query: `AlertId = '${alertId}' AND ExecutionStatus = 'Completed'` })) {
            return (await temporal.workflow.getHandle(wf.workflowId).result()) as RunState;
          }
          return null;
        },
        120_000,
        'the run to complete',
      );
      assert.equal(state.decision?.outcome, 'benign');
      assert.equal(state.status, 'closed');
    } finally {
      await connection.close();
    }
  });
});
