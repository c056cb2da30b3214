/**
 * `npm start` as a user runs it: the embedded dev server, the worker and the HTTP server in one process. A run in
 * flight survives Ctrl-C and resumes on the next start (durable, not restarted), and Ctrl-C stops everything.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { RunState } from '../../src/contracts/playbook';
import { rawTestConfig, tempDir, unique } from '../helpers/fixtures';
import { freePort } from '../helpers/net';
import { eventually } from '../helpers/temporal';
import { START_NODE_ARGS } from '../helpers/node-args';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

describe('npm start', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  test('serves, survives a restart with the run in flight, and stops cleanly on SIGINT', { timeout: 240_000 }, async () => {
    const [temporalPort, uiPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const stateDir = tempDir('soar-start-');
    const raw = rawTestConfig({ address: `127.0.0.1:${temporalPort}`, taskQueue: 'soar-playbooks', stateDir });
    const config = {
      ...raw,
      temporal: { ...(raw.temporal as object), devServer: { enabled: true, dbFile: path.join(stateDir, 'temporal.db'), uiPort } },
      http: { host: '127.0.0.1', port: httpPort },
      log: { level: 'info' },
    };
    const configFile = path.join(stateDir, 'soar.yaml');
    writeFileSync(configFile, stringify(config));
    const env = { ...process.env, SOAR_CONFIG: configFile };
    const base = `http://127.0.0.1:${httpPort}`;

    const startApp = async () => {
      const child = spawn(process.execPath, [...START_NODE_ARGS, path.join(ROOT, 'src/cli.ts'), 'start'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      await eventually(() => Promise.resolve(output.includes('"msg":"Ready"')), 120_000, 'npm start to be ready');
      return { child, output: () => output };
    };
    const stop = async (child: ChildProcess) => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      return exited;
    };

    const first = await startApp();
    assert.match(first.output(), new RegExp(`Temporal Web UI   http://127.0.0.1:${uiPort}`));
    assert.match(first.output(), new RegExp(`SIEM webhooks     POST ${base}/webhooks/siem/\\{generic,splunk,elastic,sentinel\\}`));
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${uiPort}/`)).status, 200, 'the Temporal Web UI answers');
    // temporal.devServer.sqlite: the SQLite file is in WAL mode (its write-ahead log sits beside it while open).
    assert.ok(existsSync(path.join(stateDir, 'temporal.db-wal')), 'the dev server writes its SQLite file in WAL mode');

    const alertId = unique('start');
    const res = await fetch(`${base}/webhooks/siem/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        alertId,
        user: 'jdoe',
        host: 'LAPTOP-JD01',
        srcIp: '10.0.0.9',
        destDomain: 'dropbox.com',
        bytesOut: 734003200,
        eventTime: new Date().toISOString(),
        severity: 'high',
        ruleName: 'Large upload',
      }),
    });
    assert.equal(res.status, 202);
    const { workflowId } = (await res.json()) as { workflowId: string };
    const run = async () => (await (await fetch(`${base}/runs/${workflowId}`)).json()) as RunState;
    const waiting = await eventually(
      async () => ((await run()).stage === 'awaiting-approval' ? run() : null),
      30_000,
      'approval to be requested',
    );

    assert.equal(await stop(first.child), 0);
    assert.deepEqual(
      first
        .output()
        .split('\n')
        .filter((l) => /"level":(50|60)\b/.test(l)),
      [],
      'no error logged on a normal stop',
    );
    assert.equal(await portOpen(temporalPort), false, 'the dev server stopped with the app');
    assert.equal(await portOpen(httpPort), false, 'the HTTP server stopped');

    const second = await startApp();
    const resumed = await run();
    assert.equal(resumed.stage, 'awaiting-approval');
    assert.equal(resumed.approval.requestId, waiting.approval.requestId, 'the same run resumed, not a new one');

    await execFileAsync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'approve', workflowId, '--as', 'bob'], {
      cwd: ROOT,
      env,
    });
    const closed = await eventually(
      async () => {
        const r = await run();
        return r.status === 'closed' ? r : null;
      },
      30_000,
      'the run to close',
    );
    assert.equal(closed.outcome, 'containment-simulated');
    assert.equal(await stop(second.child), 0);
  });
});
