/**
 * `npm run bench:cluster`: the scale-out benchmark. The storm of `npm run bench` (60% new cases, 25% joins, 15% exact
 * resends, closed-loop senders, 503 retried after Retry-After) sent to:
 *   - a real Temporal cluster (scripts/lib/cluster.ts: server v1.29.1, PostgreSQL, 8 history shards) with 1, 2 and 4
 *     `start --worker-only` processes behind `--http` `start --http-only` processes (alert i goes to HTTP process
 *     i mod n, so an exact resend often reaches another process than its original);
 *   - the embedded dev server with the product as `npm start` runs it (one process, both roles), for comparison.
 * Each deployment gets fresh processes, its own task queues and its own slice of the generated case keys; the
 * cluster stays up across its deployments. Prints per-deployment figures, then one markdown table.
 *
 *   npm run bench:cluster                                    2,000 alerts per deployment (about an hour on 2 cores)
 *   npm run bench:cluster -- --alerts 500 --workers 1,2,4
 *   npm run bench:cluster -- --alerts 300 --workers 2 --no-dev-server
 *
 * Figures (client-side, monotonic clocks; definitions of lost, recorded twice, duplicate run and drained are those of
 * scripts/bench.ts):
 *   runs/s      playbook runs closed / drain time (first send until no run open and every named case closed);
 *   alerts/s    deliveries acknowledged / send time (how fast the HTTP side took the storm in);
 *   ack         p50 / p99 over every 2xx answer (a 503 retried after Retry-After counts only by its final 2xx);
 *   CPU         CPU seconds per role during the deployment's block, from /proc: HTTP processes, worker processes,
 *               the Temporal server, PostgreSQL (postmaster and its backends, exited ones included), and the whole
 *               machine's busy share (which includes anything else running on it); CPU ms per run: all roles'
 *               CPU over the runs, the figure a capacity plan scales from (it holds on a machine shared with other
 *               work, where wall-clock throughput does not).
 * Loopback only; every loop bounded in count and time.
 */
import { readFileSync, chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { dataConverterFor } from '../src/temporal/payload-codec';

import { setupTemporal } from '../src/temporal/setup';
import { CaseKeyAllocator, eventTimes, prng, writeBenchDataDir } from './bench/data';
import { formatCurve } from './bench/observe';
import { runStorm, stormPlan, type BenchOptions, type StormProjectBlock, type StormTarget } from './bench/scenarios';
import type { StormItem } from './bench/storm-verdicts';
import {
  removeWorkDir,
  shippedConfig,
  shippedDataDir,
  spawnChild,
  startStack,
  Teardown,
  waitFor,
  writeProductConfig,
  type Child,
} from './bench/stack';
import { ms, num, secs, summarize } from './bench/stats';
import { randomClusterBasePort, startCluster, type RunningCluster } from './lib/cluster';
import { freePort } from './lib/net';
import { cpuSeconds, findProcess, postgresCpuSeconds } from './lib/proc';

/** The approval window of the storm's runs: an escalated case expires after it (see where it is used). */
const STORM_APPROVAL_TIMEOUT = '30s';

const ROOT = path.resolve(__dirname, '..');
const NAMESPACE = 'soar-bench';

const USAGE = `Usage: npm run bench:cluster -- [options]
  --alerts <n>          storm deliveries per deployment (default 2000)
  --workers <list>      worker process counts on the cluster, one deployment each (default 1,2,4)
  --http <n>            HTTP processes on the cluster (default 2)
  --senders <n>         concurrent senders (default 32)
  --users <n>           generated directory size (default 1000)
  --max-attempts <n>    attempts per delivery (default 8)
  --request-timeout <s> one HTTP request (default 30)
  --drain-timeout <s>   how long a deployment may take to drain after sending (default 900)
  --sample-ms <n>       visibility sampling interval (default 500)
  --no-dev-server       skip the dev-server comparison
  --no-cluster          only the dev-server deployment
  --keep                keep the work directory (logs, cluster data) after a successful run
  --seed <n>            storm mix and generated baselines (default 10)`;

class UsageError extends Error {}

function positive(name: string, value: string | undefined, fallback: number): number {
  const v = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(v) || v <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// CPU accounting from /proc (Linux; NaN elsewhere).

/** The whole machine: busy and total jiffies from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  try {
    const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

interface CpuProbe {
  roles: Record<string, () => number>;
}

interface CpuUse {
  /** CPU seconds per role during the block. */
  roles: Record<string, number>;
  /** Busy share of all cores, 0..1. */
  machineBusy: number;
  wallSeconds: number;
}

function measureCpu(probe: CpuProbe): () => CpuUse {
  const before = Object.fromEntries(Object.entries(probe.roles).map(([k, f]) => [k, f()]));
  const m0 = machineTicks();
  const t0 = performance.now();
  return () => {
    const m1 = machineTicks();
    return {
      roles: Object.fromEntries(Object.entries(probe.roles).map(([k, f]) => [k, f() - (before[k] ?? NaN)])),
      machineBusy: (m1.busy - m0.busy) / (m1.total - m0.total),
      wallSeconds: (performance.now() - t0) / 1000,
    };
  };
}

// ---------------------------------------------------------------------------------------------------------------
// One deployment's result.

interface Result {
  label: string;
  block: StormProjectBlock;
  cpu: CpuUse;
}

function report(r: Result, log: (line: string) => void): void {
  const v = r.block.verdicts;
  const acks = summarize(
    r.block.deliveries
      .flatMap((d) => d.attempts)
      .filter((a) => a.status >= 200 && a.status < 300)
      .map((a) => a.ms),
  );
  log(
    `${r.label}: ${r.block.items.length} deliveries (${v.distinctAlerts} distinct alerts, ${v.resends} exact resends), ${v.attempts} HTTP requests, ` +
      `sent in ${secs(r.block.sendSeconds)}; ${r.block.drain.drainedAt === null ? 'NOT drained' : `drained ${secs(r.block.drain.drainedAt)}`} after the first send`,
  );
  log(
    `  acknowledged ${v.acknowledged} of ${v.distinctAlerts}, lost ${v.lost}, recorded twice ${v.recordedTwice}, runs ${v.runs} = cases ${v.cases} ` +
      `(unnamed ${v.runsNoAnswerNames}, without run ${v.casesWithoutRun}), duplicate runs ${v.duplicateRuns}; 503 ${v.answers503}, other failures ${v.otherFailures}` +
      (v.otherFailures
        ? ` (${Object.entries(v.otherByKind)
            .map(([k, n]) => `${k}: ${n}`)
            .join(', ')})`
        : ''),
  );
  log(
    `  ack p50 ${ms(acks.p50)} p99 ${ms(acks.p99)} max ${ms(acks.max)}; ${pendingAnswers(r.block)} answers "recorded, case pending" ` +
      '(an exact resend answered so counts as "recorded twice": a pending answer does not say "duplicate")',
  );
  log(
    `  CPU seconds over ${secs(r.cpu.wallSeconds)}: ${Object.entries(r.cpu.roles)
      .map(([k, s]) => `${k} ${num(s)}`)
      .join(', ')}; machine busy ${num(r.cpu.machineBusy * 100, 0)}% of ${os.cpus().length} cores`,
  );
  log(
    `  workflow-task timeouts: ${r.block.health.history.workflowTaskTimeouts} in ${r.block.health.history.sampled} sampled histories, ${r.block.health.logLines} log lines`,
  );
  log(formatCurve(r.block.drain.samples));
}

/** 2xx answers that recorded the alert but could not name its case yet (the case index answered too late). */
function pendingAnswers(block: StormProjectBlock): number {
  return block.deliveries.flatMap((d) => d.attempts).filter((a) => a.status >= 200 && a.status < 300 && a.body?.pending === true).length;
}

function table(results: Result[]): string {
  const header = [
    'deployment',
    'distinct alerts',
    'runs',
    'runs/s',
    'alerts/s in',
    'ack p50',
    'ack p99',
    'drain',
    '503s',
    'lost',
    'pending answers',
    'recorded twice',
    'duplicate runs',
    'CPU seconds by role',
    'CPU ms per run',
    'machine busy',
  ];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of results) {
    const v = r.block.verdicts;
    const acks = summarize(
      r.block.deliveries
        .flatMap((d) => d.attempts)
        .filter((a) => a.status >= 200 && a.status < 300)
        .map((a) => a.ms),
    );
    const drained = r.block.drain.drainedAt;
    lines.push(
      `| ${[
        r.label,
        String(v.distinctAlerts),
        String(v.runs),
        drained === null ? 'n/a' : num(v.runs / drained, 2),
        num(v.acknowledged / r.block.sendSeconds, 1),
        ms(acks.p50),
        ms(acks.p99),
        drained === null ? 'NOT drained' : secs(drained),
        String(v.answers503),
        String(v.lost),
        String(pendingAnswers(r.block)),
        String(v.recordedTwice),
        String(v.duplicateRuns),
        Object.entries(r.cpu.roles)
          .map(([k, s]) => `${k} ${num(s, 0)}`)
          .join(', '),
        num((Object.values(r.cpu.roles).reduce((a, b) => a + b, 0) / v.runs) * 1000, 0),
        `${num(r.cpu.machineBusy * 100, 0)}%`,
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  let values;
  try {
    values = parseArgs({
      options: {
        alerts: { type: 'string' },
        workers: { type: 'string' },
        http: { type: 'string' },
        senders: { type: 'string' },
        users: { type: 'string' },
        'max-attempts': { type: 'string' },
        'request-timeout': { type: 'string' },
        'drain-timeout': { type: 'string' },
        'sample-ms': { type: 'string' },
        'no-dev-server': { type: 'boolean', default: false },
        'no-cluster': { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        seed: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const alerts = positive('alerts', values.alerts, 2000);
  const workerCounts = values['no-cluster'] ? [] : (values.workers ?? '1,2,4').split(',').map((w) => positive('workers', w.trim(), 1));
  const httpCount = positive('http', values.http, 2);
  const senders = positive('senders', values.senders, 32);
  const users = positive('users', values.users, 1000);
  const withDev = !values['no-dev-server'];
  if (workerCounts.length === 0 && !withDev) throw new UsageError('Nothing to run: --no-cluster and --no-dev-server together');
  const options: BenchOptions = {
    blocks: 1,
    sampleMs: positive('sample-ms', values['sample-ms'], 500),
    drainTimeoutMs: positive('drain-timeout', values['drain-timeout'], 900) * 1000,
    requestTimeoutMs: positive('request-timeout', values['request-timeout'], 30) * 1000,
    maxAttempts: positive('max-attempts', values['max-attempts'], 8),
    waitBy: 'poll', // the storm only: the throughput scenario's wait is not used here
    // As when docs/operations/capacity.md's figures were measured: the status links read through the drain.
    statusReads: 'during',
    maxRetryAfterS: 30,
    historySample: 20,
    curves: true,
    seed: positive('seed', values.seed, 10),
  };
  const log = (line: string) => console.log(line);
  const progress = (line: string) => console.log(`bench:cluster: ${line}`);

  const teardown = new Teardown();
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.error(`\nbench:cluster: ${signal}: stopping every process, the cluster and PostgreSQL`);
    void teardown.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // PostgreSQL runs as its own user and must reach its data directory inside.
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'soar-bench-cluster-'));
  chmodSync(workDir, 0o755);
  progress(`work directory ${workDir} (logs, generated data, the cluster's PostgreSQL)`);
  const shipped = shippedConfig();
  const dataDir = path.join(workDir, 'data');
  mkdirSync(dataDir);
  // Every deployment's new cases take fresh case keys: size the catalogue for all of them.
  const deployments = workerCounts.length + (withDev ? 1 : 0);
  const domains = Math.max(1, Math.ceil((deployments * alerts) / users));
  writeBenchDataDir(dataDir, shippedDataDir(shipped), users, domains, options.seed);
  const run = Date.now().toString(36);
  const planCtx = {
    keys: new CaseKeyAllocator(users, domains),
    times: eventTimes(new Date(), (shipped.playbook?.businessHours as { holidays?: { date: string }[] } | undefined)?.holidays ?? []),
  };
  const random = prng(options.seed);
  const results: Result[] = [];
  /** One deployment's storm: sent, drained and judged, its CPU read, its figures printed. */
  const stormBlock = async (label: string, cpu: () => CpuUse, target: StormTarget, items: StormItem[]) => {
    progress(`${label}: storm of ${alerts} alerts from ${senders} senders`);
    const block = await runStorm({ ...target, log: progress }, items, senders, options);
    const result = { label, block, cpu: cpu() };
    results.push(result);
    report(result, log);
  };
  let ok = false;
  const started = performance.now();
  try {
    if (workerCounts.length > 0) {
      let cluster: RunningCluster | null = null;
      for (let attempt = 0; attempt < 3 && !cluster; attempt++) {
        try {
          cluster = await startCluster({ dir: path.join(workDir, 'cluster'), basePort: randomClusterBasePort(), progress });
        } catch (err) {
          if (!/already in use/.test((err as Error).message) || attempt === 2) throw err;
        }
      }
      if (!cluster) throw new Error('unreachable');
      const c = cluster;
      teardown.push('the Temporal cluster', () => c.stop());
      const postmasterPid = Number(readFileSync(path.join(c.dir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      const payloadKey = { id: `bench-${run}`, key: randomBytes(32).toString('base64') };
      const common = {
        address: c.address,
        namespace: NAMESPACE,
        uiUrl: `http://127.0.0.1:${c.ports.frontendHttp}`,
        payloadKey,
        dataDir,
        // Since rule /2 (the day's total) a storm's joins can escalate a case; nobody approves in a benchmark, so its
        // request expires after this (the run closes "expired", no containment) instead of holding the drain open.
        approvalTimeout: STORM_APPROVAL_TIMEOUT,
      };
      // The namespace and search attributes, as `npm run soar -- setup --create-namespace` makes them.
      const setupConfig = loadConfig({
        SOAR_CONFIG: writeProductConfig(workDir, 'setup.yaml', shipped, {
          ...common,
          taskQueue: 'setup',
          httpPort: 1,
          stateDir: path.join(workDir, 'setup-state'),
          sdkMetricsPort: 1,
        }),
      });
      const setupConnection = await Connection.connect({ address: c.address });
      try {
        const done = await setupTemporal(setupConnection, setupConfig.temporal.payloadCodec, {
          namespace: NAMESPACE,
          createNamespace: true,
          retentionDays: 1,
          generateKey: false,
        });
        progress(`namespace ${NAMESPACE}: ${done.namespace.action}; ${done.searchAttributes.length} search attributes ready`);
      } finally {
        await setupConnection.close();
      }
      // With the product's payload key: listings decode each run's memo.
      const visibility = new Client({
        connection: await Connection.connect({ address: c.address }),
        namespace: NAMESPACE,
        dataConverter: dataConverterFor(setupConfig.temporal.payloadCodec),
      });
      teardown.push('the visibility connection', () => visibility.connection.close());

      for (const workers of workerCounts) {
        const label = `cluster, ${httpCount} HTTP + ${workers} worker${workers > 1 ? 's' : ''}`;
        const tag = `w${workers}`;
        const round = new Teardown();
        teardown.push(`the processes of "${label}"`, () => round.run());
        const taskQueue = `bench-${run}-${tag}`;
        const configFor = async (name: string, httpPort: number) => {
          const stateDir = path.join(workDir, `${tag}-${name}-state`);
          mkdirSync(stateDir, { recursive: true });
          return writeProductConfig(workDir, `${tag}-${name}.yaml`, shipped, {
            ...common,
            taskQueue,
            ingestTaskQueue: `${taskQueue}-ingest`,
            httpPort,
            stateDir,
            sdkMetricsPort: await freePort(),
          });
        };
        const start = (name: string, role: '--http-only' | '--worker-only', file: string): Child =>
          spawnChild(`${tag}-${name}`, [path.join(ROOT, 'src/cli.ts'), 'start', role], { SOAR_CONFIG: file }, workDir, round);
        const urls: string[] = [];
        const https: Child[] = [];
        const workerChildren: Child[] = [];
        progress(`${label}: starting the processes`);
        for (let i = 0; i < httpCount; i++) {
          const port = await freePort();
          urls.push(`http://127.0.0.1:${port}`);
          https.push(start(`http${i}`, '--http-only', await configFor(`http${i}`, port)));
        }
        for (let i = 0; i < workers; i++) workerChildren.push(start(`worker${i}`, '--worker-only', await configFor(`worker${i}`, 1)));
        const readyLines = new Set<Child>();
        for (const child of [...https, ...workerChildren])
          child.log.onLine = (line) => {
            if (line.includes('"msg":"Ready"')) readyLines.add(child);
          };
        for (const child of [...https, ...workerChildren])
          await waitFor(`process ${child.logFile}`, child, 240_000, () => Promise.resolve(readyLines.has(child)));
        const items = stormPlan(planCtx, alerts, `${run}-${tag}`, random);
        const sumOf = (children: Child[]) => () => children.reduce((s, ch) => s + cpuSeconds(ch.pid), 0);
        const cpu = measureCpu({
          roles: {
            http: sumOf(https),
            workers: sumOf(workerChildren),
            server: () => cpuSeconds(c.serverPid),
            postgres: () => postgresCpuSeconds(postmasterPid),
          },
        });
        await stormBlock(
          label,
          cpu,
          {
            urls,
            visibility,
            taskQueue,
            taskWarnings: () => [...https, ...workerChildren].reduce((s, ch) => s + ch.log.workflowTaskWarnings, 0),
          },
          items,
        );
        await round.run();
      }
    }

    if (withDev) {
      const label = 'dev server, 1 process (HTTP + worker)';
      const round = new Teardown();
      teardown.push('the dev-server stack', () => round.run());
      const stack = await startStack({ users, domains, seed: options.seed, approvalTimeout: STORM_APPROVAL_TIMEOUT, roles: 'one' }, round, progress);
      const items = stormPlan(planCtx, alerts, `${run}-dev`, random);
      const product = stack.product;
      const cpu = measureCpu({
        roles: {
          'http+workers': () => cpuSeconds(product.pid),
          server: () => devServerCpu(product.pid, stack.workDir),
        },
      });
      await stormBlock(
        label,
        cpu,
        {
          urls: [stack.baseUrl],
          visibility: stack.bareClient,
          taskQueue: stack.config.temporal.taskQueue,
          taskWarnings: () => product.log.workflowTaskWarnings,
        },
        items,
      );
      await round.run();
      removeWorkDir(stack.workDir);
    }

    console.log(
      `\n## Scale-out storm (${alerts} alerts per deployment, ${senders} senders; ${((performance.now() - started) / 1000).toFixed(0)} s in all)\n`,
    );
    console.log(table(results));
    ok = true;
    return 0;
  } finally {
    await teardown.run();
    if (ok && !values.keep) removeWorkDir(workDir);
    else console.log(`bench:cluster: kept ${workDir}`);
  }
}

/** The dev server runs in its own process (a `temporal` child of the bench): found by its SQLite file in the work dir. */
function devServerCpu(_productPid: number, workDir: string): number {
  const pid = findProcess('start-dev', workDir);
  return pid === null ? NaN : cpuSeconds(pid);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof UsageError ? `${err.message}\n\n${USAGE}` : err);
    process.exit(1);
  },
);
