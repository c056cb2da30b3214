/**
 * The chaos suite's harness: the real service as an operator runs it (`soar start` or `npm start` in a child
 * process, with the embedded dev server on its own SQLite file), SIEM-like senders, and the count a SOC would make
 * afterwards: acknowledged alerts, recorded ones, lost ones (acknowledged, no run), duplicate runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { searchAttributeCliArgs } from '../../src/contracts/search-attributes';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import { rawTestConfig, tempDir, unique } from '../helpers/fixtures';
import { freePort } from '../helpers/net';
import { eventually, testDataConverter } from '../helpers/temporal';
import { START_NODE_ARGS } from '../helpers/node-args';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'src/cli.ts');

export interface Setup {
  configFile: string;
  env: NodeJS.ProcessEnv;
  base: string;
  address: string;
  temporalPort: number;
  uiPort: number;
  httpPort: number;
  dbFile: string;
  stateDir: string;
}

export async function chaosSetup(name: string, extra: Record<string, unknown> = {}): Promise<Setup> {
  const [temporalPort, uiPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const stateDir = tempDir(`soar-chaos-${name}-`);
  const dbFile = path.join(stateDir, 'temporal.db');
  const address = `127.0.0.1:${temporalPort}`;
  const raw = rawTestConfig({ address, taskQueue: 'soar-playbooks', stateDir });
  const config = {
    ...raw,
    temporal: { ...(raw.temporal as object), devServer: { enabled: true, dbFile, uiPort } },
    http: { host: '127.0.0.1', port: httpPort },
    log: { level: 'info' },
    ...extra,
  };
  const configFile = path.join(stateDir, 'soar.yaml');
  writeFileSync(configFile, stringify(config));
  return {
    configFile,
    env: { ...process.env, SOAR_CONFIG: configFile },
    base: `http://127.0.0.1:${httpPort}`,
    address,
    temporalPort,
    uiPort,
    httpPort,
    dbFile,
    stateDir,
  };
}

export interface RunningApp {
  child: ChildProcess;
  /** The app's own process (the `pid` of its log lines): the child itself, or the node process `npm start` runs. */
  appPid: number;
  output(): string;
  /** Resolves with the child's exit code (or signal name). */
  exited: Promise<number | string>;
}

/**
 * Starts the service and waits for its Ready line. `via: 'npm'` runs `npm start` in its own process group, as a
 * terminal or supervisor does; otherwise `node --import ./src/typescript-loader.mjs src/cli.ts start`.
 */
export async function startApp(setup: Setup, via: 'node' | 'npm' = 'node'): Promise<RunningApp> {
  const child =
    via === 'npm'
      ? spawn('npm', ['start', '--silent'], { cwd: ROOT, env: setup.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
      : spawn(process.execPath, [...START_NODE_ARGS, CLI, 'start'], { cwd: ROOT, env: setup.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const state: { gone: number | string | null } = { gone: null };
  void exited.then((code) => (state.gone = code));
  const deadline = Date.now() + 180_000;
  while (!output.includes('"msg":"Ready"')) {
    if (state.gone !== null) throw new Error(`the app exited (${state.gone}) before it was ready:\n${output.slice(-4000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the app was not ready within 180s:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const appPid = via === 'npm' ? appProcessUnder(child.pid ?? 0) : (child.pid ?? 0);
  return { child, appPid, output: () => output, exited };
}

/** The node process running src/cli.ts among the descendants of `root` (what `npm start` started), from /proc. */
function appProcessUnder(root: number): number {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: the command name may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) if (p === root) return true;
    return false;
  };
  const matches = [...parentOf.keys()].filter((pid) => {
    if (!descends(pid)) return false;
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.some((a) => a.endsWith('src/cli.ts')) && cmd.includes('start');
  });
  // A relay (the tsx CLI) runs the app as its own child with the same arguments: the app is the innermost one.
  const app = matches.find((pid) => !matches.some((other) => parentOf.get(other) === pid));
  if (!app) throw new Error(`no app process under ${root}`);
  return app;
}

/** The PID of the dev server the app started, from its PID file next to the database. */
export function devServerPid(setup: Setup): number | null {
  const file = `${setup.dbFile}.pid`;
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export { alive } from '../../src/temporal/dev-server';

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

/** Log lines at error level or above (pino: 50 error, 60 fatal). */
export function errorLines(output: string): string[] {
  return output.split('\n').filter((l) => /"level":(50|60)\b/.test(l));
}

/** A generic-webhook alert that opens its own case (a user of its own) and escalates (waits for approval). */
export function chaosAlert(tag: string, n: number): Record<string, unknown> {
  return {
    alertId: `${tag}-${n}`,
    user: `${tag}-user-${n}`,
    host: `HOST-${n}`,
    srcIp: '10.0.0.9',
    destDomain: 'dropbox.com',
    bytesOut: 734003200,
    eventTime: '2026-11-28T01:14:00Z',
    severity: 'high',
    ruleName: 'Large upload to cloud storage',
  };
}

export function chaosTag(name: string): string {
  return unique(name).replace(/[^A-Za-z0-9-]/g, '-');
}

/** One delivery: the HTTP status, or 0 when the connection failed (nothing answered). */
export async function deliverOnce(base: string, alert: Record<string, unknown>): Promise<number> {
  try {
    const res = await fetch(`${base}/webhooks/siem/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alert),
      signal: AbortSignal.timeout(60_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

export const acknowledged = (status: number) => status === 200 || status === 202;

/** The tally of one chaos case: alert ID → every answer it got. */
export class Tally {
  readonly answers = new Map<string, number[]>();
  record(alertId: string, status: number): void {
    this.answers.set(alertId, [...(this.answers.get(alertId) ?? []), status]);
  }
  acknowledgedIds(): string[] {
    return [...this.answers].filter(([, s]) => s.some(acknowledged)).map(([id]) => id);
  }
  unacknowledgedIds(): string[] {
    return [...this.answers].filter(([, s]) => !s.some(acknowledged)).map(([id]) => id);
  }
  /** Answers other than 2xx, 503 and "no answer": none is expected in any chaos case. */
  unexpected(): string[] {
    return [...this.answers].flatMap(([id, s]) => s.filter((c) => !acknowledged(c) && c !== 503 && c !== 0).map((c) => `${id}: ${c}`));
  }
}

/**
 * Sends `alerts` with `concurrency` senders; `onAnswer` sees every answer as it comes (to inject a fault mid-burst).
 * `retry503`: deliver again after a 503 or no answer, up to that many times, as a SIEM that retries does.
 */
export async function burst(
  base: string | (() => string),
  alerts: Record<string, unknown>[],
  tally: Tally,
  options: { concurrency?: number; retries?: number; retryDelayMs?: number; onAnswer?: (status: number) => void } = {},
): Promise<void> {
  const queue = [...alerts];
  const sender = async () => {
    for (let alert = queue.shift(); alert; alert = queue.shift()) {
      for (let attempt = 0; ; attempt++) {
        const status = await deliverOnce(typeof base === 'string' ? base : base(), alert);
        tally.record(String(alert.alertId), status);
        options.onAnswer?.(status);
        if (acknowledged(status) || attempt >= (options.retries ?? 0) || (status !== 503 && status !== 0)) break;
        await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 1000));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, sender));
}

export interface Figures {
  acknowledged: number;
  recorded: number;
  lost: number;
  duplicateRuns: number;
  duplicateVendorActions: number;
}

/** Every playbook run in the namespace, by its AlertId search attribute (runs of one test: one database per test). */
export async function runsByAlert(address: string): Promise<Map<string, string[]>> {
  const connection = await Connection.connect({ address });
  try {
    // With the test payload key: a listing decodes each run's memo (encrypted like every payload).
    const client = new Client({ connection, namespace: 'default', dataConverter: testDataConverter });
    const byAlert = new Map<string, string[]>();
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'exfilToCloudStorage'` })) {
      const alertId = wf.searchAttributes?.AlertId?.[0];
      if (typeof alertId !== 'string') continue;
      byAlert.set(alertId, [...(byAlert.get(alertId) ?? []), `${wf.workflowId}/${wf.runId}`]);
    }
    return byAlert;
  } finally {
    await connection.close();
  }
}

/**
 * Waits until every acknowledged alert has a run (an alert recorded by signal gets its run a moment later), then
 * counts. Lost: acknowledged without a run. Duplicate runs: runs beyond the first for one alert.
 */
export async function countRuns(address: string, acknowledgedIds: string[], duplicateVendorActions = 0): Promise<Figures> {
  let runs = new Map<string, string[]>();
  await eventually(
    async () => {
      runs = await runsByAlert(address);
      return acknowledgedIds.every((id) => runs.has(id));
    },
    60_000,
    'every acknowledged alert to have its run',
  ).catch(() => undefined); // counted as lost below
  const recorded = acknowledgedIds.filter((id) => runs.has(id)).length;
  const duplicateRuns = [...runs.values()].reduce((n, r) => n + Math.max(0, r.length - 1), 0);
  return { acknowledged: acknowledgedIds.length, recorded, lost: acknowledgedIds.length - recorded, duplicateRuns, duplicateVendorActions };
}

export function formatFigures(name: string, f: Figures): string {
  return `chaos ${name}: acknowledged ${f.acknowledged}, recorded ${f.recorded}, lost ${f.lost}, duplicate runs ${f.duplicateRuns}, duplicate vendor actions ${f.duplicateVendorActions}`;
}

/**
 * A bare Temporal dev server on the test's database (after the app has stopped), to count what it recorded; or, with
 * a fresh database, a foreign server on a port.
 */
export async function bareTemporal(options: {
  port: number;
  dbFile: string;
  /** Register the project's search attributes (a foreign server has none). */
  searchAttributes: boolean;
}): Promise<{ pid: number; stop(): Promise<void> }> {
  const cli = await resolveTemporalCli();
  if (!cli) throw new Error('No Temporal CLI: run `npm run temporal:cli`');
  const child = spawn(
    cli.path,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--headless',
      '--db-filename',
      options.dbFile,
      '--log-level',
      'error',
      ...(options.searchAttributes ? searchAttributeCliArgs() : []),
    ],
    { stdio: 'ignore' },
  );
  await eventually(
    async () => {
      const connection = await Connection.connect({ address: `127.0.0.1:${options.port}`, connectTimeout: '1s' });
      try {
        await connection.workflowService.getSystemInfo({});
        return true;
      } finally {
        await connection.close();
      }
    },
    60_000,
    'the bare dev server',
  );
  return {
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
