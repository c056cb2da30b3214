/**
 * The one end-to-end set-up: a real Temporal dev server, the suite's vendor stand-ins, the real worker and HTTP app
 * (in this process, or `soar start` in a child process as an operator runs it), and fetch and CLI helpers against
 * the listening service. Nothing of the project's own is mocked; `stop()` undoes whatever was started, in reverse.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { parseConfig, type Config } from '../../src/config';
import type { RunState } from '../../src/contracts/playbook';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { createIngestWorker, createWorker, queueBacklog } from '../../src/worker';
import type { PacingEvent } from '../../src/temporal/burst-pacer';
import { createActivityDeps, createBurstPacer } from '../../src/wiring';
import { rawTestConfig, tempDir, unique } from './fixtures';
import { freePort } from './net';
import { eventually, startTestServer, workflowBundle } from './temporal';
import { START_NODE_ARGS } from './node-args';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'src/cli.ts');

type RawConfig = Record<string, unknown>;

/** A stand-in server (`test/fakes/`): started before the configuration is built, so its URL can go into it. */
export interface StartableStandIn {
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

export interface E2eOptions {
  /** Prefix of the suite's unique task queue. */
  name: string;
  /** Started first and stopped last. */
  standIns?: StartableStandIn[];
  /** Turns the test configuration (`rawTestConfig`, pointed at the dev server) into the suite's. */
  configure?: (raw: RawConfig) => RawConfig | Promise<RawConfig>;
  /** The environment the configuration's `env:` references read (and the child process and CLI get). */
  env?: Record<string, string>;
  /** `0` makes every workflow task of the cases replay its history (the case indexes then get a worker with a cache). */
  maxCachedWorkflows?: number;
  /** Serve the Temporal Web UI, its codec endpoint wired to this app; `temporal.uiUrl` points at it. */
  ui?: boolean;
  /** Run the service as `soar start` in a child process (worker and HTTP in one process, logs at `output()`). */
  childProcess?: boolean;
}

export interface E2e {
  env: TestWorkflowEnvironment;
  /** A client with the test payload key: it reads and decides runs like the service's own. */
  client: Client;
  /** The configuration as written (before parsing), for suites that build variants of it. */
  raw: RawConfig;
  config: Config;
  /** The configuration as a YAML file, for the CLI and child processes (`SOAR_CONFIG`). */
  configFile: string;
  /** `http://127.0.0.1:<port>` of the HTTP app. */
  base: string;
  /** The Web UI, when `ui` was asked for; else the configured `temporal.uiUrl`. */
  uiUrl: string;
  /** POSTs `body` (a string as is, anything else as JSON) with `content-type: application/json` unless overridden. */
  post(urlPath: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(urlPath: string, headers?: Record<string, string>): Promise<Response>;
  /** `GET /runs/:workflowId`, parsed. */
  run(workflowId: string, headers?: Record<string, string>): Promise<RunState>;
  /** The real CLI (`src/cli.ts`) in a separate process with this configuration; rejects on a non-zero exit. */
  cli(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Everything the child process wrote to stdout and stderr so far (empty when the service runs in this process). */
  output(): string;
  /** What the burst pacing did, when the configuration turns it on (in this process only). */
  pacingEvents: PacingEvent[];
  stop(): Promise<void>;
}

export async function startE2e(options: E2eOptions): Promise<E2e> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    while (cleanups.length) await cleanups.pop()?.();
  };
  try {
    return await start(options, cleanups, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

async function start(options: E2eOptions, cleanups: (() => Promise<void>)[], stop: () => Promise<void>): Promise<E2e> {
  for (const standIn of options.standIns ?? []) {
    await standIn.start();
    cleanups.push(() => standIn.stop());
  }

  // The UI's codec endpoint and a child process's HTTP server need the port before anything listens.
  const httpPort = options.ui || options.childProcess ? await freePort() : 0;
  const uiPort = options.ui ? await freePort() : 0;
  const env = await startTestServer(options.ui ? { uiPort, extraArgs: ['--ui-codec-endpoint', `http://127.0.0.1:${httpPort}/codec`] } : {});
  cleanups.push(() => env.teardown());

  const taskQueue = unique(options.name);
  let raw = rawTestConfig({ address: env.address, taskQueue });
  // A suite that replays every workflow task (no cache) has its case indexes on a worker of their own, with a cache:
  // an index starts a case by a local activity, and with no cache the SDK drops a run whose local activity is in
  // flight as soon as another run needs the slot (the case just started, for one), stalling the alert's answer for
  // a workflow task timeout. The configuration requires a cache of at least 1 for that reason (src/config/temporal.ts).
  if (options.maxCachedWorkflows === 0) raw = { ...raw, temporal: { ...(raw.temporal as object), ingestTaskQueue: `${taskQueue}-ingest` } };
  if (options.configure) raw = await options.configure(raw);
  if (options.ui) raw = { ...raw, temporal: { ...(raw.temporal as object), uiUrl: `http://127.0.0.1:${uiPort}` } };
  if (httpPort) raw = { ...raw, http: { ...(raw.http as object), host: '127.0.0.1', port: httpPort } };
  const secrets = options.env ?? {};
  const config = parseConfig(raw, secrets);
  const configFile = path.join(tempDir('soar-e2e-'), 'soar.yaml');
  writeFileSync(configFile, stringify(raw));
  const processEnv = { ...process.env, ...secrets, SOAR_CONFIG: configFile };

  let base: string;
  let output = '';
  const pacingEvents: PacingEvent[] = [];
  if (options.childProcess) {
    const child = spawn(process.execPath, [...START_NODE_ARGS, CLI, 'start'], {
      cwd: ROOT,
      env: processEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    });
    // A service that exits while starting fails the suite at once, with its output, not after the timeout.
    let ready = false;
    const exitedEarly = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => {
        if (!ready) reject(new Error(`soar start exited (${code ?? signal}) before it was ready:\n${output}`));
      }),
    );
    exitedEarly.catch(() => undefined); // settled by the race below, or never
    await Promise.race([
      eventually(() => Promise.resolve(output.includes('"msg":"Ready"')), 120_000, 'soar start to be ready'),
      exitedEarly,
    ]);
    ready = true;
    base = `http://127.0.0.1:${httpPort}`;
  } else {
    const logger = createLogger({ level: 'silent' });
    const cache = options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {};
    const bundle = await workflowBundle();
    // The case indexes get their own worker when the configuration gives them their own task queue, as in `npm start`.
    // Burst pacing as `npm start` wires it (when the configuration turns it on): the webhooks' answers pace the indexes.
    const pacer = createBurstPacer(config, { worker: true, http: true }, (e) => pacingEvents.push(e));
    if (pacer) cleanups.push(() => Promise.resolve(pacer.close()));
    const ingest = await createIngestWorker({ config, connection: env.nativeConnection, workflowBundle: bundle, ...(pacer ? { pacer } : {}) });
    const workers = [
      await createWorker({
        config,
        connection: env.nativeConnection,
        deps: createActivityDeps(config, logger),
        workflowBundle: bundle,
        ...cache,
        ...(pacer ? { pacer } : {}),
      }),
      ...(ingest ? [ingest] : []),
    ];
    pacer?.watchBacklog(queueBacklog(env.nativeConnection, config));
    const running = workers.map((w) => w.run());
    cleanups.push(async () => {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
    });
    const app = buildApp({
      config,
      client: env.client,
      logger,
      ...(pacer ? { onWebhookAnswer: (ms: number, status: number) => pacer.observeAnswer(ms, status) } : {}),
    });
    cleanups.push(() => app.close());
    base = await app.listen({ host: '127.0.0.1', port: httpPort });
  }

  const get = (urlPath: string, headers: Record<string, string> = {}) => fetch(`${base}${urlPath}`, { headers });
  return {
    env,
    client: env.client,
    raw,
    config,
    configFile,
    base,
    uiUrl: config.temporal.uiUrl,
    post: (urlPath, body, headers = {}) =>
      fetch(`${base}${urlPath}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get,
    run: async (workflowId, headers) => (await (await get(`/runs/${workflowId}`, headers)).json()) as RunState,
    cli: (...args) => execFileAsync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: processEnv }),
    output: () => output,
    pacingEvents,
    stop,
  };
}
