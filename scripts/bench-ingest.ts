/**
 * `npm run bench:ingest`: a bounded burst of alerts against a real local stack (the Temporal CLI's dev server, the
 * playbook worker and the HTTP app, all on free 127.0.0.1 ports, in-memory), then accepted alerts per second and
 * p50/p99 acknowledgement latency (request sent to 2xx received, i.e. until Temporal recorded the alert).
 * Not a test: the figures depend on the machine. Options: --alerts N (300), --concurrency C (16), --join-every K (3:
 * every third alert is for a user who already has an open case, so it joins instead of opening one).
 */
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config';
import { buildApp } from '../src/http/app';
import { createLogger } from '../src/logger';
import { connectClient, connectWorker } from '../src/temporal/connection';
import { startDevServer } from '../src/temporal/dev-server';
import { resolveTemporalCli } from '../src/temporal/temporal-cli';
import { createWorker, installSdkLogger } from '../src/worker';
import { createActivityDeps } from '../src/wiring';

const { values } = parseArgs({
  options: {
    alerts: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '16' },
    'join-every': { type: 'string', default: '3' },
  },
});
const TOTAL = Number(values.alerts);
const CONCURRENCY = Number(values.concurrency);
const JOIN_EVERY = Number(values['join-every']);
if (!(TOTAL > 0 && TOTAL <= 10_000 && CONCURRENCY > 0 && CONCURRENCY <= 256)) {
  console.error('--alerts must be 1..10000 and --concurrency 1..256');
  process.exit(2);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function main(): Promise<void> {
  const logger = createLogger({ level: 'error' });
  installSdkLogger(logger);
  const cli = await resolveTemporalCli();
  if (!cli) throw new Error('No Temporal CLI: run `npm run temporal:cli` first');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soar-bench-'));
  const [grpcPort, uiPort] = [await freePort(), await freePort()];
  const config = parseConfig(
    {
      temporal: {
        address: `127.0.0.1:${grpcPort}`,
        taskQueue: 'bench-ingest',
        devServer: { enabled: true, dbFile: path.join(dir, 'temporal.db'), uiPort, logLevel: 'error' },
        // Encrypted payloads, as in production: a fresh key for this run.
        payloadCodec: { enabled: true, keys: [{ id: 'bench', key: randomBytes(32).toString('base64') }] },
      },
      http: { host: '127.0.0.1', port: 0 },
      playbook: { approvers: [{ id: 'alice', name: 'Alice' }], businessHours: {} },
      enrichment: { dataDir: path.resolve(__dirname, '../config/data') },
      dataDir: dir,
      log: { level: 'warn' },
    },
    {},
  );

  console.log(`Starting the Temporal dev server on 127.0.0.1:${grpcPort}, the worker and the HTTP app...`);
  const devServer = await startDevServer(config.temporal, cli.path, logger);
  const client = await connectClient(config.temporal);
  const connection = await connectWorker(config.temporal);
  const worker = await createWorker({ config, connection, deps: createActivityDeps(config, logger) });
  const workerRun = worker.run();
  const app = buildApp({ config, client, logger });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });

  try {
    const run = `${Date.now().toString(36)}`;
    const eventTime = new Date(Date.now() - 3600_000).toISOString();
    const alertAt = (i: number) => {
      // Every JOIN_EVERY-th alert reuses the previous alert's user: it joins that user's open case.
      const userIndex = JOIN_EVERY > 0 && i % JOIN_EVERY === JOIN_EVERY - 1 ? i - 1 : i;
      return {
        alertId: `bench-${run}-${i}`,
        user: `bench-user-${run}-${userIndex}`,
        host: `LAPTOP-${userIndex}`,
        srcIp: '10.20.30.40',
        destDomain: 'dropbox.com',
        bytesOut: 734003200,
        eventTime,
        severity: 'high',
        ruleName: 'Large upload to cloud storage',
      };
    };

    // Warm-up: the first request bundles nothing but does open connections and caches.
    await fetch(`${base}/webhooks/siem/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...alertAt(0), alertId: `bench-${run}-warmup`, user: `bench-warmup-${run}` }),
    });

    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    let joined = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (;;) {
          const i = next++;
          if (i >= TOTAL) return;
          const t0 = performance.now();
          const res = await fetch(`${base}/webhooks/siem/generic`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(alertAt(i)),
          });
          const body = (await res.json()) as { joined?: boolean };
          const elapsed = performance.now() - t0;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 202) {
            latencies.push(elapsed);
            if (body.joined) joined++;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const accepted = latencies.length;
    console.log('');
    console.log(`alerts posted        ${TOTAL} (concurrency ${CONCURRENCY}; every ${JOIN_EVERY}th joins an open case)`);
    console.log(`statuses             ${[...statuses].map(([s, n]) => `${s}: ${n}`).join(', ')}`);
    console.log(`accepted             ${accepted} (${accepted - joined} opened a case, ${joined} joined one) in ${seconds.toFixed(2)} s`);
    console.log(`accepted/s           ${(accepted / seconds).toFixed(1)}`);
    console.log(`ack latency p50      ${percentile(latencies, 50).toFixed(1)} ms`);
    console.log(`ack latency p99      ${percentile(latencies, 99).toFixed(1)} ms`);
    console.log(`ack latency max      ${(latencies[latencies.length - 1] ?? NaN).toFixed(1)} ms`);
  } finally {
    await app.close();
    worker.shutdown();
    await workerRun;
    await connection.close();
    await client.connection.close();
    await devServer.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
