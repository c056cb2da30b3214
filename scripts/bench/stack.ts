/**
 * The stack under test, started once per bench run and torn down on every exit path (a failed start included):
 *   - one embedded Temporal dev server (src/temporal/dev-server.ts, the CLI from the same resolver `npm start` uses),
 *     SQLite file in a temporary folder, on free 127.0.0.1 ports;
 *   - the product exactly as `npm start` runs it (`src/cli.ts start`: HTTP app + worker in one process), in a child
 *     process (or, with `--roles split`, as two: `start --worker-only` and `start --http-only`, the deployment
 *     docs/operations describes for bigger machines), with the shipped configuration (config/soar.yaml) pointed at
 *     that server, a fresh payload key, a free HTTP port and the generated data directory;
 *   - the bare baseline's worker (scripts/bench/bare-worker.ts) in another child process, on its own task queue.
 * The bench process itself only offers load and measures, so its own event loop does not sit in either side's way.
 */
import { freePort } from '../lib/net';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { loadConfig, parseConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { connectClient } from '../../src/temporal/connection';
import { dataConverterFor } from '../../src/temporal/payload-codec';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { findProcess } from '../lib/proc';
import type { CostSources } from './server-cost';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import { writeBenchDataDir } from './data';
import { LogTap } from './observe';

export const ROOT = path.resolve(__dirname, '../..');

/** Stops registered resources once, in reverse order; errors are printed, not thrown, so every stop runs. */
export class Teardown {
  private readonly stops: { what: string; stop: () => Promise<unknown> }[] = [];
  private running: Promise<void> | null = null;

  push(what: string, stop: () => Promise<unknown>): void {
    this.stops.push({ what, stop });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { what, stop } of this.stops.reverse()) {
        try {
          await stop();
        } catch (err) {
          console.error(`bench: stopping ${what} failed:`, err);
        }
      }
    })();
    return this.running;
  }
}

export interface Child {
  readonly pid: number;
  readonly log: LogTap;
  readonly logFile: string;
  exited(): string | null;
}

/** Environment variables the configuration reads (src/config.ts): not inherited, so the child uses our file only. */
const CONFIG_ENV = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_UI_URL',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_CA',
  'TEMPORAL_TLS_CERT',
  'TEMPORAL_TLS_KEY',
  'SOAR_DEV_SERVER',
  'SOAR_HTTP_HOST',
  'SOAR_HTTP_PORT',
  'SOAR_DATA_DIR',
  'LOG_LEVEL',
  'SOAR_CONFIG',
];

/**
 * A child node process running a TypeScript entry point, its output tapped into `<workDir>/<name>.log`, stopped by
 * `teardown`. Both sides of the bench run the way `npm start` runs the product: tsx in the main thread only
 * (src/typescript-loader.mjs), so neither side's workflow threads load a TypeScript loader.
 */
export function spawnChild(name: string, args: string[], env: Record<string, string>, workDir: string, teardown: Teardown): Child {
  const childEnv: Record<string, string | undefined> = { ...process.env };
  for (const key of CONFIG_ENV) delete childEnv[key];
  // One directory per process: each of its threads (the main one, the workflow threads, tsx's loader) writes its own.
  const loader = pathToFileURL(path.join(ROOT, 'src/typescript-loader.mjs')).href;
  const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.join(process.env.BENCH_CPU_PROF_DIR, name)}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, '--import', loader, ...args], {
    cwd: ROOT,
    env: { ...childEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`Could not start the ${name} process`);
  const logFile = path.join(workDir, `${name}.log`);
  const log = new LogTap(logFile);
  log.attach(child.stdout);
  log.attach(child.stderr);
  let exited: string | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? `code ${code}`}`;
      resolve();
    }),
  );
  // Last resort when the async teardown cannot run (process.exit from elsewhere): no orphan.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  teardown.push(`the ${name} process`, async () => {
    process.removeListener('exit', onExit);
    if (exited === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exit;
      clearTimeout(timer);
    }
    await log.close();
  });
  return { pid: child.pid, log, logFile, exited: () => exited };
}

/** Waits until `ready()` holds, failing early with the log's name when the child exits first. */
export async function waitFor(what: string, child: Child, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const status = child.exited();
    if (status) throw new Error(`The ${what} ${status} during start-up; see ${child.logFile}`);
    if (await ready().catch(() => false)) return;
    if (performance.now() > deadline) throw new Error(`The ${what} was not ready within ${timeoutMs / 1000} s; see ${child.logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export type ShippedConfig = Record<string, Record<string, unknown>>;

/** config/soar.yaml as shipped: the bench runs the product with it, replacing only what a run must own. */
export function shippedConfig(): ShippedConfig {
  return parse(readFileSync(path.join(ROOT, 'config/soar.yaml'), 'utf8')) as ShippedConfig;
}

export function shippedDataDir(shipped: ShippedConfig): string {
  const dir = shipped.enrichment?.dataDir;
  return path.resolve(ROOT, typeof dir === 'string' ? dir : 'config/data');
}

export interface ProductConfigOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Case indexes on a queue of their own (the shipped default); omitted: the shipped name. */
  ingestTaskQueue?: string;
  uiUrl: string;
  /** Every process of one deployment shares the key ring. */
  payloadKey: { id: string; key: string };
  httpPort: number;
  /** The generated enrichment data (users, devices, baselines). */
  dataDir: string;
  /** This process's own state (audit file and the like). */
  stateDir: string;
  sdkMetricsPort: number;
  approvalTimeout: string;
  logLevel?: string;
}

/** Writes the product's configuration: the shipped file with what this run must own replaced. Returns its path. */
export function writeProductConfig(workDir: string, fileName: string, shipped: ShippedConfig, o: ProductConfigOptions): string {
  const productRaw = {
    ...shipped,
    temporal: {
      ...shipped.temporal,
      address: o.address,
      namespace: o.namespace,
      taskQueue: o.taskQueue,
      ...(o.ingestTaskQueue ? { ingestTaskQueue: o.ingestTaskQueue } : {}),
      uiUrl: o.uiUrl,
      devServer: { enabled: false },
      payloadCodec: { enabled: true, keys: [o.payloadKey] },
    },
    http: { ...shipped.http, host: '127.0.0.1', port: o.httpPort },
    playbook: { ...shipped.playbook, approvalTimeout: o.approvalTimeout },
    enrichment: { ...shipped.enrichment, dataDir: o.dataDir },
    dataDir: o.stateDir,
    audit: { ...shipped.audit, file: path.join(o.stateDir, 'audit', 'audit.jsonl') },
    metrics: { ...shipped.metrics, sdkPrometheusAddress: `127.0.0.1:${o.sdkMetricsPort}` },
    log: { level: o.logLevel ?? (shipped.log?.level as string | undefined) ?? 'info' },
  };
  const file = path.join(workDir, fileName);
  writeFileSync(file, stringify(productRaw), 'utf8');
  return file;
}

export interface StackOptions {
  users: number;
  domains: number;
  seed: number;
  /** The product's log level (the shipped configuration says info). */
  logLevel?: string;
  /** How long the product's approval requests stay open: long enough for the approval-wait scenario. */
  approvalTimeout: string;
  /** One product process (`npm start`), or the worker and the HTTP app apart (`start --worker-only`, `--http-only`). */
  roles: 'one' | 'split';
}

export interface Stack {
  workDir: string;
  /** The product's configuration, as its process parses it. */
  config: Config;
  baseUrl: string;
  /**
   * Visibility and histories of both sides: with the product's payload codec, since listings decode each run's memo
   * (the product's are encrypted; the bare runs' plain payloads pass through).
   */
  bareClient: Client;
  /** Starts and awaits the bare runs: the SDK's default data converter, like the bare worker (no codec). */
  bareStarter: Client;
  bareTaskQueue: string;
  /** The product's client (payload codec), to wait for its runs and read their histories. */
  projectClient: Client;
  /** The product's worker process (with `--roles one`, also its HTTP app): RSS and task-timeout log lines are read here. */
  product: Child;
  /** The product's HTTP app, when it runs apart (`--roles split`). */
  productHttp: Child | null;
  bare: Child;
  /** Where a block's CPU and server request counts are read (scripts/bench/server-cost.ts). */
  cost: CostSources;
}

export async function startStack(options: StackOptions, teardown: Teardown, progress: (line: string) => void): Promise<Stack> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'soar-bench-'));
  const dataDir = path.join(workDir, 'data');
  const stateDir = path.join(workDir, 'state');
  mkdirSync(dataDir);
  mkdirSync(stateDir);
  progress(`work directory ${workDir} (logs, generated data, the dev server's SQLite file)`);

  const shipped = shippedConfig();
  writeBenchDataDir(dataDir, shippedDataDir(shipped), options.users, options.domains, options.seed);
  progress(`generated ${options.users} users and ${options.domains} approved bench domains in ${dataDir}`);

  const [grpcPort, uiPort, httpPort, sdkMetricsPort, serverMetricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const address = `127.0.0.1:${grpcPort}`;
  const run = Date.now().toString(36);
  const temporalConfig = parseConfig(
    {
      temporal: {
        address,
        namespace: 'default',
        devServer: { enabled: true, dbFile: path.join(workDir, 'temporal.db'), uiPort, logLevel: 'error' },
        payloadCodec: { enabled: false },
      },
      playbook: shipped.playbook,
      dataDir: stateDir,
    },
    {},
  ).temporal;

  // The dev server's own output goes to a file with the other logs, not into the bench's report.
  const devServerLog = createWriteStream(path.join(workDir, 'temporal-dev-server.log'), { flags: 'a' });
  teardown.push('the dev server log', () => new Promise((resolve) => devServerLog.end(resolve)));
  const logger = createLogger({ level: 'info', destination: devServerLog });
  const cli = await resolveTemporalCli({ progress });
  if (!cli) throw new Error('No Temporal CLI: run `npm run temporal:cli` first (or set TEMPORAL_CLI_PATH)');
  progress(`starting the Temporal dev server (${cli.path}) on ${address}`);
  // Registered before awaiting, so a signal during start-up still stops the server once it is up.
  const starting = startDevServer(temporalConfig, cli.path, logger, { extraArgs: ['--metrics-port', String(serverMetricsPort)] });
  teardown.push('the Temporal dev server', async () => (await starting.catch(() => null))?.stop());
  const devServer: DevServer = await starting;

  const configFile = writeProductConfig(workDir, 'soar.yaml', shipped, {
    address,
    namespace: 'default',
    taskQueue: `bench-soar-${run}`,
    uiUrl: devServer.uiUrl,
    payloadKey: { id: `bench-${run}`, key: randomBytes(32).toString('base64') },
    httpPort,
    dataDir,
    stateDir,
    sdkMetricsPort,
    approvalTimeout: options.approvalTimeout,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
  const config = loadConfig({ SOAR_CONFIG: configFile });

  const connection = await Connection.connect({ address });
  teardown.push('the bench client connection', () => connection.close());
  // With the product's payload key: listings decode each run's memo (the bare runs' plain payloads pass through).
  const bareClient = new Client({ connection, namespace: 'default', dataConverter: dataConverterFor(config.temporal.payloadCodec) });
  // The bare runs are started and awaited without the product's codec: their worker has none (a bare baseline).
  const bareStarter = new Client({ connection, namespace: 'default' });
  const projectClient = await connectClient(config.temporal);
  teardown.push('the product client connection', () => projectClient.connection.close());

  const split = options.roles === 'split';
  progress(
    split
      ? 'starting the product as two processes (src/cli.ts start --worker-only, start --http-only) and the bare worker'
      : 'starting the product (src/cli.ts start: HTTP app and worker) and the bare worker',
  );
  const cliPath = path.join(ROOT, 'src/cli.ts');
  const product = spawnChild('product', [cliPath, 'start', ...(split ? ['--worker-only'] : [])], { SOAR_CONFIG: configFile }, workDir, teardown);
  let productReady = !split;
  if (split)
    product.log.onLine = (line) => {
      if (line.includes('"msg":"Ready"')) productReady = true;
    };
  const productHttp = split
    ? spawnChild('product-http', [cliPath, 'start', '--http-only'], { SOAR_CONFIG: configFile }, workDir, teardown)
    : null;
  const bareTaskQueue = `bench-bare-${run}`;
  const bare = spawnChild(
    'bare-worker',
    [path.join(__dirname, 'bare-worker.ts'), address, 'default', bareTaskQueue],
    {},
    workDir,
    teardown,
  );
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  let bareReady = false;
  bare.log.onLine = (line) => {
    if (line.trim() === 'READY') bareReady = true;
  };
  await waitFor(split ? 'product HTTP process' : 'product process', productHttp ?? product, 180_000, async () => (await fetch(`${baseUrl}/healthz`)).status === 200);
  if (split) await waitFor('product worker process', product, 180_000, () => Promise.resolve(productReady));
  await waitFor('bare worker process', bare, 180_000, () => Promise.resolve(bareReady));
  progress(`product listening on ${baseUrl} (task queue ${config.temporal.taskQueue}); bare worker on ${bareTaskQueue}`);
  const cost: CostSources = {
    serverPid: findProcess('start-dev', workDir),
    serverMetricsUrl: `http://127.0.0.1:${serverMetricsPort}/metrics`,
    productPids: productHttp ? [product.pid, productHttp.pid] : [product.pid],
    barePid: bare.pid,
  };
  return { workDir, config, baseUrl, bareClient, bareStarter, bareTaskQueue, projectClient, product, productHttp, bare, cost };
}

/** Removes the work directory (after the children stopped). */
export function removeWorkDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
