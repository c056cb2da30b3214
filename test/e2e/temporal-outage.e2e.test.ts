/**
 * What a SIEM hears while Temporal is frozen (SIGSTOP) or dead (kill -9), against a real dev server this suite
 * starts itself (so it can stop, kill and restart exactly that process on the same SQLite file), the real ingest
 * worker and the real HTTP app. Every 503 that says `recorded: false` is checked afterwards: the same alert, sent
 * again once Temporal is back, must open a new case (202, not a duplicate). And once the client has seen Temporal
 * fail, the next alerts are answered at once instead of at the recording deadline (10 s).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { parseConfig, type Config } from '../../src/config';
import { searchAttributeCliArgs } from '../../src/contracts/search-attributes';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { connectClient } from '../../src/temporal/connection';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import { createIngestWorker } from '../../src/worker';
import { rawTestConfig, tempDir, unique } from '../helpers/fixtures';
import { freePort } from '../helpers/net';
import { eventually, workflowBundle } from '../helpers/temporal';

/** A dev server this suite owns: its process can be frozen, killed and started again on the same database. */
class OwnDevServer {
  private child: ChildProcess | null = null;
  readonly dbFile = path.join(tempDir('soar-outage-'), 'temporal.db');
  constructor(
    readonly port: number,
    private readonly cli: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(this.port), '--headless'];
    args.push('--db-filename', this.dbFile, '--log-level', 'error', ...searchAttributeCliArgs());
    const child = spawn(this.cli, args, { stdio: 'ignore' });
    this.child = child;
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`the dev server exited with ${child.exitCode}`);
        const connection = await NativeConnection.connect({ address: this.address });
        try {
          await connection.workflowService.getSystemInfo({});
          return true;
        } finally {
          await connection.close();
        }
      },
      60_000,
      'the dev server',
    );
  }

  signal(signal: NodeJS.Signals): void {
    assert.ok(this.child?.pid, 'the dev server is running');
    process.kill(this.child.pid, signal);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/** A generic alert of its own case (one user per alert): only its own record can make it a duplicate. */
const alertBody = (alertId: string, user: string) => ({
  alertId,
  user,
  host: 'LAPTOP-JD01',
  srcIp: '10.1.2.3',
  destDomain: 'dropbox.com',
  bytesOut: 734003200,
  eventTime: new Date(Date.now() - 60_000).toISOString(),
  severity: 'high',
  ruleName: 'Large upload to cloud storage',
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

describe('a webhook while Temporal is frozen or dead', { timeout: 600_000 }, () => {
  let server: OwnDevServer;
  let config: Config;
  let client: Client;
  let app: FastifyInstance;
  let worker: { worker: Worker; running: Promise<void>; connection: NativeConnection } | null = null;

  const post = async (alertId: string, user = alertId.toLowerCase()): Promise<Answer> => {
    const started = Date.now();
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/siem/generic',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(alertBody(alertId, user)),
    });
    return { status: res.statusCode, body: res.json(), ms: Date.now() - started };
  };
  const report = (what: string, a: Answer) =>
    process.stdout.write(`  ${what}: ${a.status} recorded=${JSON.stringify(a.body.recorded ?? null)} in ${a.ms} ms\n`);

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const cli = await resolveTemporalCli();
    assert.ok(cli, 'the Temporal CLI is installed');
    server = new OwnDevServer(await freePort(), cli.path);
    await server.start();
    const raw = rawTestConfig({ address: server.address, taskQueue: unique('outage') });
    config = parseConfig(
      {
        ...raw,
        temporal: { ...(raw.temporal as object), ingestTaskQueue: unique('outage-ingest') },
        // The shipped default: the update is given 2 s before the signal fallback.
        ingest: { answerWithin: '2s' },
      },
      {},
    );
    const connection = await NativeConnection.connect({ address: server.address });
    const ingest = await createIngestWorker({ config, connection, workflowBundle: await workflowBundle() });
    assert.ok(ingest);
    worker = { worker: ingest, running: ingest.run(), connection };
    client = await connectClient(config.temporal, '2s');
    app = buildApp({ config, client, logger: createLogger({ level: 'silent' }) });
  });

  after(async () => {
    await app?.close();
    await server?.kill();
    if (worker) {
      worker.worker.shutdown();
      await worker.running.catch(() => undefined);
      await worker.connection.close().catch(() => undefined);
    }
    await client?.connection.close();
  });

  test('frozen: the alert on the wire is "unknown", the next ones are refused at once as "not recorded", and were not', async () => {
    assert.equal((await post('OUT-WARM')).status, 202, 'Temporal answers before the freeze');

    server.signal('SIGSTOP');
    let resumed = false;
    try {
      const first = await post('OUT-FROZEN-1');
      report('frozen, first alert (sent)', first);
      assert.equal(first.status, 503);
      assert.equal(first.body.recorded, 'unknown', 'the update was on the wire: it may have been recorded');
      assert.match(String(first.body.error), /^Temporal did not confirm the alert .*it may have been recorded/);
      assert.ok(first.ms < 9_000, `answered before the 10 s recording deadline (took ${first.ms} ms)`);

      const next = [await post('OUT-FROZEN-2'), await post('OUT-FROZEN-3')];
      for (const [i, answer] of next.entries()) {
        report(`frozen, alert ${i + 2} (not sent)`, answer);
        assert.equal(answer.status, 503);
        assert.equal(answer.body.recorded, false);
        assert.equal(answer.body.error, 'Temporal is unavailable; nothing was recorded, retry later');
        assert.ok(answer.ms < 3_000, `answered at once, not at the deadline (took ${answer.ms} ms)`);
      }
      server.signal('SIGCONT');
      resumed = true;

      // "Not recorded" was true: the same alerts now open cases of their own.
      for (const alertId of ['OUT-FROZEN-2', 'OUT-FROZEN-3']) {
        const again = await eventually(
          async () => {
            const a = await post(alertId);
            return a.status === 503 ? null : a;
          },
          60_000,
          `${alertId} to be recorded after the thaw`,
        );
        assert.equal(again.status, 202, `${alertId}: ${JSON.stringify(again.body)}`);
        assert.equal(again.body.duplicate, false, `${alertId} was not recorded before`);
      }
      // The uncertain one is recorded exactly once, whichever way it went.
      const first2 = await post('OUT-FROZEN-1');
      assert.ok(first2.status === 200 || first2.status === 202, JSON.stringify(first2.body));
      process.stdout.write(`  the "unknown" alert had ${first2.body.duplicate ? 'been' : 'not been'} recorded by the frozen server\n`);
    } finally {
      if (!resumed) server.signal('SIGCONT');
    }
  });

  test('killed: an alert in flight when the server dies is "unknown", later ones are refused at once, and none is lost', async () => {
    assert.equal((await post('OUT-WARM-2')).status, 202, 'Temporal answers before the kill');

    // The request is on the wire (the frozen server holds it) when the process dies: the connection drops mid-call.
    server.signal('SIGSTOP');
    const inFlight = post('OUT-KILLED-1');
    // Long enough for the update to be on the wire on a slow machine (it waits 2 s for an answer).
    await new Promise((r) => setTimeout(r, 1_000));
    await server.kill();
    const first = await inFlight;
    report('killed mid-call', first);
    assert.equal(first.status, 503);
    assert.equal(first.body.recorded, 'unknown', 'the call was on the wire: never "not recorded"');

    const next = await post('OUT-KILLED-2');
    report('dead, next alert (not sent)', next);
    assert.equal(next.status, 503);
    assert.equal(next.body.recorded, false);
    assert.ok(next.ms < 3_000, `answered at once, not at the deadline (took ${next.ms} ms)`);

    await server.start();
    const again = await eventually(
      async () => {
        const a = await post('OUT-KILLED-2');
        return a.status === 503 ? null : a;
      },
      60_000,
      'the alert to be recorded after the restart',
    );
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal(again.body.duplicate, false, '"not recorded" was true');
    const first2 = await post('OUT-KILLED-1');
    assert.ok(first2.status === 200 || first2.status === 202, JSON.stringify(first2.body));

    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    const line = (recorded: string) =>
      metrics.body
        .split('\n')
        .find((l) => l.startsWith('soar_alerts_rejected_total{') && l.includes(`recorded="${recorded}"`) && l.includes('status="503"'));
    assert.match(line('unknown') ?? '', / [1-9]\d*$/, 'the uncertain 503s are counted as recorded="unknown"');
    assert.match(line('false') ?? '', / [1-9]\d*$/, 'the unsent 503s are counted as recorded="false"');
  });
});
