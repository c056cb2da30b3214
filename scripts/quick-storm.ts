/* scratch: not committed */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { startTestServer, testDataConverter } from '../test/helpers/temporal';
import { rawTestConfig, unique } from '../test/helpers/fixtures';
import { parseConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { bundleWorkflows, createActivityDeps, createIngestWorker, createWorker } from '../src/worker';
import { buildApp } from '../src/http/app';

const rate = Number(process.argv[2] ?? 20);
const seconds = Number(process.argv[3] ?? 10);
const users = 1000;

function dataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qs-'));
  for (const f of ['cloud-storage.yaml', 'policy-changes.yaml']) writeFileSync(path.join(dir, f), readFileSync(path.join(__dirname, '../config/data', f)));
  const names = Array.from({ length: users }, (_, i) => `u${String(i).padStart(4, '0')}`);
  writeFileSync(path.join(dir, 'hr-directory.yaml'), stringify({ users: names.map((u) => ({ user: u, displayName: u, department: 'Finance', title: 'Analyst', groups: ['all-staff'], employmentStatus: 'active', manager: 'mmanager', timezone: 'Europe/Berlin', cloudStorageAuthorized: true })) }));
  writeFileSync(path.join(dir, 'upload-baselines.yaml'), stringify({ baselines: names.map((u) => ({ user: u, dailyBytes: Array.from({ length: 30 }, (_, d) => 20_000_000 + ((d * 7919) % 10_000_000)) })) }));
  writeFileSync(path.join(dir, 'devices.yaml'), stringify({ devices: names.map((u) => ({ host: `LAPTOP-${u}`, managed: true, owner: u, cloudStorageAllowed: true })) }));
  return dir;
}

async function main() {
  const env = await startTestServer();
  const tq = unique('qs');
  const raw = rawTestConfig({ address: env.address, taskQueue: tq, dataDir: dataDir() });
  (raw.temporal as Record<string, unknown>).ingestTaskQueue = `${tq}-ingest`;
  const config = parseConfig(raw, {});
  const logger = createLogger({ level: 'warn' });
  const bundle = await bundleWorkflows(logger);
  const w1 = await createWorker({ config, connection: env.nativeConnection, workflowBundle: bundle, deps: createActivityDeps(config, logger) });
  const w2 = await createIngestWorker({ config, connection: env.nativeConnection, workflowBundle: bundle });
  const runs = [w1.run(), w2?.run()];
  const app = buildApp({ config, client: env.client, logger });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const lat: number[] = [];
  const status = new Map<number, number>();
  const total = rate * seconds;
  const t0 = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const u = `u${String(i % users).padStart(4, '0')}`;
    const body = JSON.stringify({ alertId: `qs-${tq}-${i}`, user: u, host: `LAPTOP-${u}`, srcIp: '10.0.0.1', destDomain: 'acme.sharepoint.com', bytesOut: 10485760, eventTime: '2026-11-24T09:00:00.000Z', severity: 'low', ruleName: 'Large upload' });
    const s = performance.now();
    sends.push(fetch(`${base}/webhooks/siem/generic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => { await r.text(); lat.push(performance.now() - s); status.set(r.status, (status.get(r.status) ?? 0) + 1); }));
  }
  await Promise.all(sends);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]?.toFixed(0);
  console.log(`offered ${rate}/s for ${seconds}s: statuses ${JSON.stringify([...status])} ack p50 ${q(0.5)} ms p99 ${q(0.99)} ms max ${q(1)} ms`);
  const sendEnd = performance.now();
  for (let i = 0; i < 300; i++) {
    const open = await env.client.workflow.count(`WorkflowType = 'exfilToCloudStorage' AND ExecutionStatus = 'Running' AND TaskQueue = '${tq}'`);
    const done = await env.client.workflow.count(`WorkflowType = 'exfilToCloudStorage' AND ExecutionStatus = 'Completed' AND TaskQueue = '${tq}'`);
    console.log(`t+${((performance.now() - sendEnd) / 1000).toFixed(0)}s open ${open.count} completed ${done.count} rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    if (open.count === 0 && done.count >= (status.get(202) ?? 0)) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  console.log(`drained in ${((performance.now() - sendEnd) / 1000).toFixed(1)} s after the last send`);
  await app.close();
  w1.shutdown(); w2?.shutdown();
  await Promise.all(runs);
  await env.teardown();
  void testDataConverter;
}
main().catch((e) => { console.error(e); process.exit(1); });
