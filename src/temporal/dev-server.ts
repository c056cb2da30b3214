/**
 * The embedded default: the Temporal CLI's dev server with persistent SQLite, started and stopped with the app.
 * Production points `temporal.address` at a cluster or Temporal Cloud and leaves `temporal.devServer.enabled` off.
 *
 * Three promises (docs/operations/dev-server.md):
 * - the server that answers is the one started here: a port already in use, a child that exited, or a server that
 *   answers without the namespace and search attributes refuse the start with a message that says which;
 * - it is supervised: a dev server that dies is restarted on the same SQLite file, with backoff, logged and counted
 *   (`soar_temporal_dev_server_restarts_total`); `/healthz` answers 503 while it is down;
 * - it stops last: it runs in its own process group, so the terminal's Ctrl-C reaches only the app, which stops it
 *   after the worker has drained. Its PID is kept next to the database, so a start after the app was killed
 *   (`kill -9`, no chance to stop it) stops the one left behind before starting anew.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { ALL_SEARCH_ATTRIBUTES, searchAttributeCliArgs } from '../contracts/search-attributes';
import type { PlaybookMetrics } from '../metrics';

export interface DevServer {
  readonly uiUrl: string;
  /** True while the dev server started here is running and verified; false while it is being restarted. */
  readonly up: boolean;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  /** The app's `/codec` base URL, so the embedded Web UI decrypts payloads (open only on loopback, like the UI). */
  codecEndpoint?: string;
  /** Counts restarts and shows whether the dev server is up. */
  metrics?: PlaybookMetrics;
  /** Restart delays in ms, the last repeated (default 1 s, 2 s, 4 s, 8 s, 16 s, 30 s). */
  restartBackoffMs?: number[];
  /** More `temporal server start-dev` flags (the benchmark's `--metrics-port`). */
  extraArgs?: string[];
}

/** The embedded dev server cannot be the one that answers: refused at start, with what to do about it. */
export class DevServerConflictError extends Error {
  override name = 'DevServerConflictError';
}

/**
 * The dev server exited during start-up because a port it picked for itself (its HTTP API, metrics and internal
 * service ports are chosen free by the CLI, then bound moments later) was taken in between. Not the configured
 * ports: those are checked before every launch. Such a start is tried again, a bounded number of times.
 */
class DevServerPortRaceError extends Error {
  override name = 'DevServerPortRaceError';
}

/** Launches of one start (or restart) when the dev server loses a port it picked itself to another process. */
const PORT_RACE_ATTEMPTS = 3;

const DEFAULT_BACKOFF_MS = [1000, 2000, 4000, 8000, 16_000, 30_000];
/** A dev server that ran this long before dying starts the backoff from the beginning again. */
const STABLE_MS = 60_000;

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

/** The command line of a live process, or null when it is gone (or cannot be read on this platform). */
function commandLineOf(pid: number): string | null {
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  try {
    if (existsSync('/proc')) return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** Whether a process with this PID exists (signal 0 tests without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether process `pid` holds the listening TCP socket on `port` (Linux: /proc/net/tcp{,6} and the process's file
 * descriptors). Null where /proc is not available: the other checks still apply.
 */
export function listensOn(pid: number, port: number): boolean | null {
  if (!existsSync('/proc/net/tcp')) return null;
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is the tenth column.
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A' && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return false;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m?.[1] && inodes.has(m[1])) return true;
    }
  } catch {
    return null;
  }
  return false;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * Stops a dev server left running on this database by a start that was killed (its PID file remains). Only a live
 * process whose command line is a `start-dev` on this very database file is stopped: a reused PID is left alone.
 */
async function stopLeftBehind(pidFile: string, dbFile: string, log: Logger): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const cmd = Number.isInteger(pid) && pid > 0 ? commandLineOf(pid) : null;
  if (cmd && cmd.includes('start-dev') && cmd.includes(dbFile)) {
    log.warn({ pid, pidFile }, 'A dev server left running by an earlier start (the app was killed) holds this database; stopping it');
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (alive(pid)) {
      log.warn({ pid }, 'It did not stop within 15s; killing it');
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      while (alive(pid)) await sleep(100);
    }
  }
  rmSync(pidFile, { force: true });
}

export async function startDevServer(
  config: Config['temporal'],
  cliPath: string,
  logger: Logger,
  options: DevServerOptions = {},
): Promise<DevServer> {
  const [ip = '127.0.0.1', portText = '7233'] = config.address.split(':');
  const port = Number(portText);
  const dev = config.devServer;
  const dbFile = path.resolve(dev.dbFile);
  const pidFile = `${dbFile}.pid`;
  await mkdir(path.dirname(dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--ui-port',
    String(dev.uiPort),
    '--namespace',
    config.namespace,
    '--db-filename',
    dbFile,
    '--log-level',
    dev.logLevel,
    ...searchAttributeCliArgs(),
    '--sqlite-pragma',
    `journal_mode=${dev.sqlite.journalMode}`,
    '--sqlite-pragma',
    `synchronous=${dev.sqlite.synchronous}`,
    // An activity a workflow task schedules goes straight back to the worker that completed the task, instead of a
    // round trip through the task queue: fewer server writes per playbook step. Off by default in the dev server;
    // a cluster sets it in its own dynamic config (docs/operations).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // The dev server re-reads the search-attribute definitions and the namespace from its database on every
    // search-attribute use (each start with attributes, each upsert, each visibility write), under one lock, so that
    // attributes added while it runs apply at once. This worker's attributes are registered when the namespace is
    // created (the flags above), so it reads them from its cache as a cluster does; one added later (`soar setup`)
    // applies after the namespace cache's refresh, 2 s by default, as on a cluster.
    '--dynamic-config-value',
    'system.forceSearchAttributesCacheRefreshOnRead=false',
    // New tasks of a task queue go to one partition, not four; polls are still spread over four (the read
    // partitions), and a poll that finds its partition empty is forwarded to that one. With four written, the last
    // tasks of a backlog sit in partitions where no poll is waiting while a worker with one task-queue poller (the
    // ingest worker's, routing one alert at a time) waits in an empty one: the backlog's tail came out in gaps of
    // 0.2 s on an idle machine and 1 to 1.8 s under load (docs/operations/dev-server.md). Reads stay at four, so
    // tasks a server with four written partitions left in the file are still polled.
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
    // A task-queue describe with stats (the burst pacing's backlog, read once a second: src/temporal/burst-pacer.ts)
    // is answered from a cache the server keeps for 5 s by default: the backlog read was up to 5 s old. Half a second
    // here; a cluster sets it in its own dynamic config (docs/operations/capacity.md).
    '--dynamic-config-value',
    'matching.TaskQueueInfoByBuildIdTTL="500ms"',
    ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
    ...(options.extraArgs ?? []),
  ];
  const log = logger.child({ component: 'temporal-dev-server' });
  const metrics = options.metrics;
  await stopLeftBehind(pidFile, dbFile, log);

  /** Starts one dev server process and waits until it answers, and is verified to be the one that answers. */
  const launch = async (): Promise<ChildProcess> => {
    for (const [what, p] of [
      ['temporal.address', port],
      ['temporal.devServer.uiPort', dev.uiPort],
    ] as const) {
      if (await portInUse(ip, p)) {
        throw new DevServerConflictError(
          `Port ${p} on ${ip} (${what}) is already in use, perhaps by another Temporal server: the embedded dev server cannot ` +
            `start there, and the app will not use a server it did not start. Stop what listens on ${ip}:${p}, or set ${what} ` +
            `to a free port${what === 'temporal.address' ? ', or turn temporal.devServer.enabled off to use that server' : ''}.`,
        );
      }
    }
    log.info({ cli: cliPath, args }, 'Starting the Temporal dev server');
    // Its own process group (detached): the terminal's Ctrl-C reaches the app only, which stops this server last.
    const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    // The end of what it printed is kept, to tell a lost port race (a bind that failed) from any other failed start.
    let tail = '';
    const forward = (level: 'info' | 'warn') => (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-16_384);
      for (const line of text.split('\n')) if (line.trim()) log[level](line.trim());
    };
    child.stdout?.on('data', forward('info'));
    child.stderr?.on('data', forward('warn'));
    const status: { exited: string | null } = { exited: null };
    child.once('exit', (code, signal) => {
      status.exited = `exited with ${signal ?? `code ${code}`}`;
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    if (child.pid) writeFileSync(pidFile, `${child.pid}\n`);
    const fail = async (error: Error): Promise<never> => {
      if (!status.exited) {
        child.kill('SIGKILL');
        await waitForExit(child, 5000);
      }
      rmSync(pidFile, { force: true });
      throw error;
    };

    const deadline = Date.now() + 60_000;
    for (;;) {
      if (status.exited) {
        const message = `The Temporal dev server ${status.exited} during start-up (see its log lines above)`;
        return fail(/address already in use/i.test(tail) ? new DevServerPortRaceError(message) : new Error(message));
      }
      if (Date.now() > deadline) return fail(new Error('The Temporal dev server did not answer within 60s'));
      try {
        const connection = await Connection.connect({ address: config.address, connectTimeout: '1s' });
        try {
          await connection.workflowService.getSystemInfo({});
          // Something answers. Make sure it is this child: alive, holding the port, with our namespace and attributes.
          const problem = await verifyOwnServer(connection, child, status);
          if (problem) return fail(new DevServerConflictError(problem));
          break;
        } finally {
          await connection.close();
        }
      } catch (err) {
        if (err instanceof DevServerConflictError) throw err;
        await sleep(250);
      }
    }
    return child;
  };

  /** `launch`, again when the server lost a port it picked itself (the configured ports are re-checked each time). */
  const launchUntilBound = async (): Promise<ChildProcess> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch();
      } catch (err) {
        if (!(err instanceof DevServerPortRaceError) || attempt >= PORT_RACE_ATTEMPTS) throw err;
        log.warn({ attempt, of: PORT_RACE_ATTEMPTS }, 'A port the dev server picked for itself was taken meanwhile; starting it again');
      }
    }
  };

  const verifyOwnServer = async (
    connection: Connection,
    child: ChildProcess,
    status: { exited: string | null },
  ): Promise<string | null> => {
    const elsewhere = `A Temporal server answers on ${config.address}, but it is not the dev server this app started`;
    if (status.exited || !child.pid)
      return `${elsewhere} (that one ${status.exited ?? 'did not start'}). Stop the other server or change temporal.address.`;
    if (listensOn(child.pid, port) === false) {
      // The child may still be binding: it owns the port once it answers, so give it a moment before judging.
      await sleep(500);
      if (status.exited) return `${elsewhere} (that one ${status.exited}). Stop the other server or change temporal.address.`;
      if (listensOn(child.pid, port) === false)
        return `${elsewhere} (the port belongs to another process). Stop the other server or change temporal.address.`;
    }
    try {
      await connection.workflowService.describeNamespace({ namespace: config.namespace });
    } catch (err) {
      return `${elsewhere}: it has no namespace "${config.namespace}" (${(err as Error).message}).`;
    }
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: config.namespace });
    const missing = ALL_SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => !customAttributes?.[name]);
    if (missing.length) return `${elsewhere}: the search attributes ${missing.join(', ')} are missing there.`;
    return null;
  };

  let child = await launchUntilBound();
  let up = true;
  let stopping = false;
  let attempt = 0;
  let since = Date.now();
  let restartTimer: NodeJS.Timeout | null = null;
  let launching: Promise<ChildProcess> | null = null;
  metrics?.devServerUp.set(1);
  log.info({ pid: child.pid }, 'Temporal dev server is up');

  const supervise = (c: ChildProcess) => {
    c.once('exit', (code, signal) => {
      if (stopping) return;
      up = false;
      metrics?.devServerUp.set(0);
      if (Date.now() - since >= STABLE_MS) attempt = 0;
      scheduleRestart({ code, signal });
    });
  };
  const scheduleRestart = (why: Record<string, unknown>) => {
    const backoff = options.restartBackoffMs ?? DEFAULT_BACKOFF_MS;
    const delay = backoff[Math.min(attempt, backoff.length - 1)] ?? 1000;
    attempt += 1;
    log.error({ ...why, restartInMs: delay, attempt }, 'The Temporal dev server stopped unexpectedly; restarting it on the same database');
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (stopping) return;
      metrics?.devServerRestarts.inc();
      const launched = launchUntilBound();
      launching = launched;
      launched.then(
        (c) => {
          launching = null;
          if (stopping) return; // stop() stops it
          child = c;
          up = true;
          since = Date.now();
          metrics?.devServerUp.set(1);
          log.info({ pid: c.pid, attempt }, 'Temporal dev server restarted');
          supervise(c);
        },
        (err: unknown) => {
          launching = null;
          if (!stopping) scheduleRestart({ err });
        },
      );
    }, delay);
  };
  supervise(child);

  return {
    uiUrl: `http://${ip}:${dev.uiPort}`,
    get up() {
      return up;
    },
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const restarted = launching ? await launching.catch(() => null) : null;
      for (const c of restarted ? [child, restarted] : [child]) {
        if (c.exitCode !== null || c.signalCode !== null) continue;
        c.kill('SIGTERM');
        if (!(await waitForExit(c, 15_000))) {
          log.warn('The dev server did not stop within 15s; killing it');
          c.kill('SIGKILL');
          await waitForExit(c, 5_000);
        }
      }
      rmSync(pidFile, { force: true });
      metrics?.devServerUp.set(0);
    },
  };
}
