/**
 * A real Temporal cluster on one machine, for the cluster tests, the scale-out benchmark and for trying the
 * production shape: the Temporal server (frontend, history, matching and worker services in one process, as
 * `temporal-server start` runs them) on PostgreSQL with SQL visibility and 8 history shards, on its own ports.
 *
 * Everything comes from what the registries here serve:
 * - the server and its SQL tool are built with `go install go.temporal.io/server/cmd/{server,tools/sql}@v1.29.1` into
 *   a cache outside the repository (like the Temporal CLI), once; TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH
 *   point at prebuilt ones;
 * - PostgreSQL is Debian's (`apt-get install postgresql` when it is missing and we are root), run on loopback from a
 *   data directory inside the cluster directory, as the `postgres` user when we are root (PostgreSQL refuses root);
 * - the schemas are the ones embedded in the SQL tool (`postgresql/v12/temporal`, `postgresql/v12/visibility`).
 * The namespace and the search attributes are the project's own business: `npm run soar -- setup --create-namespace`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { grpc } from '@temporalio/proto';
import { alive } from '../../src/temporal/dev-server';
import { cacheRoot, isExecutable } from '../../src/temporal/temporal-cli';

const execFileAsync = promisify(execFile);

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

export type Progress = (line: string) => void;

export interface ServerTools {
  server: string;
  sql: string;
}

export function serverCacheDir(env: Record<string, string | undefined> = process.env): string {
  return path.join(cacheRoot(env), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

/** The Temporal server and SQL tool binaries: given by env, cached, or built now with `go install` (minutes, once). */
export async function ensureServerTools(progress: Progress = () => {}, env = process.env): Promise<ServerTools> {
  const dir = serverCacheDir(env);
  const wanted: [keyof ServerTools, string, string | undefined][] = [
    ['server', 'go.temporal.io/server/cmd/server', env.TEMPORAL_SERVER_PATH],
    ['sql', 'go.temporal.io/server/cmd/tools/sql', env.TEMPORAL_SQL_TOOL_PATH],
  ];
  const tools: Partial<ServerTools> = {};
  for (const [name, pkg, given] of wanted) {
    if (given) {
      if (!(await isExecutable(given)))
        throw new Error(`${name === 'server' ? 'TEMPORAL_SERVER_PATH' : 'TEMPORAL_SQL_TOOL_PATH'}: ${given} is not executable`);
      tools[name] = given;
      continue;
    }
    const file = path.join(dir, path.basename(pkg));
    if (!(await isExecutable(file))) {
      progress(`Building ${pkg}@${TEMPORAL_SERVER_VERSION} with go install into ${dir} (several minutes on first use; cached afterwards)`);
      mkdirSync(dir, { recursive: true });
      try {
        await execFileAsync('go', ['install', `${pkg}@${TEMPORAL_SERVER_VERSION}`], {
          env: { ...env, GOBIN: dir, GOFLAGS: '-mod=mod' },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 40 * 60_000,
        });
      } catch (err) {
        const e = err as { code?: string; stderr?: string; message: string };
        if (e.code === 'ENOENT')
          throw new Error(`Cannot build ${pkg}: Go is not installed (or set TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH)`);
        throw new Error(
          `go install ${pkg}@${TEMPORAL_SERVER_VERSION} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-5).join('\n')}`,
        );
      }
    }
    tools[name] = file;
  }
  return tools as ServerTools;
}

/** The directory holding PostgreSQL's server programs (initdb, pg_ctl); installs Debian's package when missing and root. */
export async function ensurePostgres(progress: Progress = () => {}): Promise<string> {
  const find = async (): Promise<string | null> => {
    const candidates = [
      ...(process.env.PG_BIN ? [process.env.PG_BIN] : []),
      ...(existsSync('/usr/lib/postgresql')
        ? readdirSync('/usr/lib/postgresql')
            .sort((a, b) => Number(b) - Number(a))
            .map((v) => path.join('/usr/lib/postgresql', v, 'bin'))
        : []),
      ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean),
    ];
    for (const dir of candidates)
      if ((await isExecutable(path.join(dir, 'initdb'))) && (await isExecutable(path.join(dir, 'pg_ctl')))) return dir;
    return null;
  };
  const found = await find();
  if (found) return found;
  if (process.getuid?.() !== 0)
    throw new Error('PostgreSQL is not installed: install Debian\'s "postgresql" package (or set PG_BIN to its bin directory)');
  progress('PostgreSQL is missing: apt-get install -y postgresql');
  await execFileAsync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60_000,
  });
  const after = await find();
  if (!after) throw new Error('apt-get installed postgresql but initdb/pg_ctl were not found under /usr/lib/postgresql');
  return after;
}

export interface ClusterTls {
  /** The CA that signed the server's and the clients' certificates. */
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** A client pair the server's own internal worker service uses to reach the frontend. */
  internalClientCertFile: string;
  internalClientKeyFile: string;
  /** The name in the server certificate (clients verify it). */
  serverName: string;
}

export interface ClusterOptions {
  /** Everything the cluster writes: PostgreSQL data, server configuration, logs. */
  dir: string;
  /** Frontend gRPC port; the other services use the ports after it (see ports()). */
  basePort?: number;
  historyShards?: number;
  /** mTLS on the frontend: clients must present a certificate signed by the CA. */
  tls?: ClusterTls;
  progress?: Progress;
}

export interface ClusterPorts {
  frontend: number;
  history: number;
  matching: number;
  worker: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
  frontendHttp: number;
  metrics: number;
  postgres: number;
}

/** A random base port for a test cluster: room for its 31 ports, membership ports below 32768 (a smallint). */
export function randomClusterBasePort(): number {
  return 20_000 + 40 * Math.floor(Math.random() * 300);
}

export function clusterPorts(base: number): ClusterPorts {
  return {
    frontend: base,
    history: base + 1,
    matching: base + 2,
    worker: base + 3,
    frontendMembership: base + 10,
    historyMembership: base + 11,
    matchingMembership: base + 12,
    workerMembership: base + 13,
    frontendHttp: base + 20,
    metrics: base + 21,
    postgres: base + 30,
  };
}

export interface RunningCluster {
  /** host:port of the frontend, for `temporal.address`. */
  address: string;
  ports: ClusterPorts;
  dir: string;
  serverPid: number;
  /** Stops the Temporal server, then PostgreSQL. */
  stop(): Promise<void>;
}

interface State {
  serverPid: number;
  basePort: number;
  dir: string;
  startedAt: string;
}

const isRoot = () => process.getuid?.() === 0;

/** Runs a PostgreSQL program as the `postgres` user when we are root (PostgreSQL refuses to run as root). */
function pgCommand(bin: string, program: string, args: string[]): [string, string[]] {
  const file = path.join(bin, program);
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
}

async function pg(bin: string, program: string, args: string[]): Promise<string> {
  const [cmd, argv] = pgCommand(bin, program, args);
  try {
    const { stdout } = await execFileAsync(cmd, argv, { timeout: 120_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

function ownForPostgres(target: string): void {
  if (!isRoot()) return;
  const uid = Number.parseInt(readFileSync('/etc/passwd', 'utf8').match(/^postgres:[^:]*:(\d+):(\d+):/m)?.[1] ?? 'NaN', 10);
  const gid = Number.parseInt(readFileSync('/etc/passwd', 'utf8').match(/^postgres:[^:]*:\d+:(\d+):/m)?.[1] ?? 'NaN', 10);
  if (!Number.isInteger(uid)) throw new Error('PostgreSQL runs as the "postgres" user, which does not exist here');
  chownSync(target, uid, gid);
}

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startPostgres(bin: string, dir: string, port: number, progress: Progress): Promise<string> {
  const pgDir = path.join(dir, 'postgres');
  const data = path.join(pgDir, 'data');
  const passwordFile = path.join(dir, 'postgres.password');
  mkdirSync(pgDir, { recursive: true });
  ownForPostgres(pgDir);
  if (isRoot()) {
    // PostgreSQL runs as `postgres`: every folder above its data directory must let it through.
    await execFileAsync('runuser', ['-u', 'postgres', '--', 'test', '-w', pgDir]).catch(() => {
      throw new Error(
        `The "postgres" user cannot reach ${pgDir}: make the folders above it traversable (chmod o+x) or choose another --dir`,
      );
    });
  }
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  if (!existsSync(path.join(data, 'PG_VERSION'))) {
    progress(`initdb ${data}`);
    const pwFile = path.join(pgDir, 'initdb.pw');
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    ownForPostgres(pwFile);
    try {
      await pg(bin, 'initdb', [
        '-D',
        data,
        '-U',
        'temporal',
        `--pwfile=${pwFile}`,
        '--auth-local=scram-sha-256',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
      ]);
    } finally {
      writeFileSync(pwFile, '');
    }
  }
  if (await portOpen(port))
    throw new Error(`Port ${port} (PostgreSQL for the cluster) is already in use: stop what holds it or choose another base port`);
  progress(`Starting PostgreSQL on 127.0.0.1:${port}`);
  await pg(bin, 'pg_ctl', [
    '-D',
    data,
    '-l',
    path.join(pgDir, 'postgres.log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -k ${pgDir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on`,
    'start',
  ]);
  return password;
}

async function stopPostgres(bin: string, dir: string): Promise<void> {
  const data = path.join(dir, 'postgres', 'data');
  if (!existsSync(path.join(data, 'postmaster.pid'))) return;
  await pg(bin, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']).catch((err: Error) => {
    if (!/not running|No such process|is not running/i.test(err.message)) throw err;
  });
}

async function setupSchemas(sqlTool: string, port: number, password: string, dir: string, progress: Progress): Promise<void> {
  const marker = path.join(dir, 'schema.done');
  const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(port), '-u', 'temporal'];
  const env = { ...process.env, SQL_PASSWORD: password };
  const run = async (args: string[]) => {
    try {
      await execFileAsync(sqlTool, [...base, ...args], { env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(
        `temporal-sql-tool ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim().split('\n').slice(-3).join('\n')}`,
      );
    }
  };
  for (const [db, schema] of [
    ['temporal', 'postgresql/v12/temporal'],
    ['temporal_visibility', 'postgresql/v12/visibility'],
  ] as const) {
    if (!existsSync(marker)) {
      progress(`Creating database ${db}`);
      await run(['--db', db, 'create-database']);
      await run(['--db', db, 'setup-schema', '-v', '0.0']);
    }
    // Idempotent: brings an existing database to the schema of this server version.
    await run(['--db', db, 'update-schema', '--schema-name', schema]);
  }
  writeFileSync(marker, new Date().toISOString());
}

function yamlString(value: string): string {
  return JSON.stringify(value);
}

function serverConfig(ports: ClusterPorts, password: string, shards: number, tls: ClusterTls | undefined): string {
  const store = (db: string, conns: number) => `      sql:
        pluginName: postgres12
        databaseName: ${db}
        connectAddr: "127.0.0.1:${ports.postgres}"
        connectProtocol: tcp
        user: temporal
        password: ${yamlString(password)}
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: 1h`;
  const service = (grpc: number, membership: number, http?: number) =>
    `    rpc:\n      grpcPort: ${grpc}\n      membershipPort: ${membership}\n      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  const tlsBlock = tls
    ? `  tls:
    frontend:
      server:
        certFile: ${yamlString(tls.serverCertFile)}
        keyFile: ${yamlString(tls.serverKeyFile)}
        requireClientAuth: true
        clientCaFiles: [${yamlString(tls.caFile)}]
      client:
        serverName: ${yamlString(tls.serverName)}
        rootCaFiles: [${yamlString(tls.caFile)}]
    systemWorker:
      certFile: ${yamlString(tls.internalClientCertFile)}
      keyFile: ${yamlString(tls.internalClientKeyFile)}
      client:
        serverName: ${yamlString(tls.serverName)}
        rootCaFiles: [${yamlString(tls.caFile)}]
`
    : '';
  return `# Written by scripts/lib/cluster.ts: the Temporal server's PostgreSQL sample configuration, adapted.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${shards}
  datastores:
    postgres-default:
${store('temporal', 40)}
    postgres-visibility:
${store('temporal_visibility', 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "127.0.0.1:${ports.metrics}"
${tlsBlock}services:
  frontend:
${service(ports.frontend, ports.frontendMembership, ports.frontendHttp)}
  history:
${service(ports.history, ports.historyMembership)}
  matching:
${service(ports.matching, ports.matchingMembership)}
  worker:
${service(ports.worker, ports.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${ports.frontend}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "config/dynamicconfig/development.yaml"
  pollInterval: 10s
`;
}

// What the project uses that a default server leaves off: Updates (alert acknowledgement, approvals), update-with-start;
// and task-queue stats kept half a second, not 5 s (the burst pacing's backlog read, docs/operations/capacity.md).
const DYNAMIC_CONFIG = `frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableUpdateWorkflowExecutionAsyncAccepted:
  - value: true
frontend.enableExecuteMultiOperation:
  - value: true
system.enableEagerWorkflowStart:
  - value: true
system.enableActivityEagerExecution:
  - value: true
matching.TaskQueueInfoByBuildIdTTL:
  - value: 500ms
`;

function readState(dir: string): State | null {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as State;
  } catch {
    return null;
  }
}

/** The Temporal server process of a cluster started earlier (by `npm run cluster -- up`), if it is still running. */
export function runningClusterPid(dir: string): { pid: number; basePort: number } | null {
  const state = readState(path.resolve(dir));
  return state && alive(state.serverPid) ? { pid: state.serverPid, basePort: state.basePort } : null;
}

async function frontendServing(ports: ClusterPorts, tls: ClusterTls | undefined): Promise<boolean> {
  let connection: Connection | null = null;
  try {
    connection = await Connection.connect({
      address: `127.0.0.1:${ports.frontend}`,
      connectTimeout: '5s',
      ...(tls
        ? {
            tls: {
              serverNameOverride: tls.serverName,
              serverRootCACertificate: readFileSync(tls.caFile),
              clientCertPair: { crt: readFileSync(tls.internalClientCertFile), key: readFileSync(tls.internalClientKeyFile) },
            },
          }
        : {}),
    });
    const health = await connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
    return health.status === grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

async function waitForFrontend(
  ports: ClusterPorts,
  tls: ClusterTls | undefined,
  server: ChildProcess,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const exit: { code: number | null } = { code: null };
  server.once('exit', (code) => {
    exit.code = code ?? -1;
  });
  while (Date.now() < deadline) {
    if (exit.code !== null) {
      const tail = existsSync(logFile)
        ? readFileSync(logFile, 'utf8')
            .trim()
            .split('\n')
            .slice(-6)
            .map((l) => l.slice(0, 400))
            .join('\n')
        : '';
      throw new Error(`The Temporal server exited (code ${exit.code}) before serving:\n${tail}`);
    }
    // The frontend port opens before the services have joined the ring: ready is when it says SERVING.
    if ((await portOpen(ports.frontend)) && (await frontendServing(ports, tls))) return;
    await sleep(1000);
  }
  throw new Error(
    `The Temporal server did not open its frontend on 127.0.0.1:${ports.frontend} within ${timeoutMs / 1000} s (log: ${logFile})`,
  );
}

/**
 * Brings the cluster up: PostgreSQL (initialised on first use), the schemas, the server configuration, the server.
 * Resolves once the frontend accepts connections; `stop()` takes it all down again.
 */
export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const progress = options.progress ?? (() => {});
  const dir = path.resolve(options.dir);
  const basePort = options.basePort ?? 17233;
  const ports = clusterPorts(basePort);
  // The server stores membership ports in a smallint column: they must stay below 32768.
  if (ports.workerMembership > 32_767 || basePort < 1024) throw new Error(`basePort ${basePort}: choose one from 1024 to ${32_767 - 13}`);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const already = runningClusterPid(dir);
  if (already) throw new Error(`A cluster from ${dir} is already running (pid ${already.pid}): stop it first`);
  for (const [name, port] of Object.entries(ports) as [string, number][]) {
    if (name !== 'postgres' && (await portOpen(port))) {
      throw new Error(`Port ${port} (${name}) is already in use: another Temporal server? Stop it or choose another base port`);
    }
  }

  const [tools, pgBin] = await Promise.all([ensureServerTools(progress), ensurePostgres(progress)]);
  const password = await startPostgres(pgBin, dir, ports.postgres, progress);
  let server: ChildProcess | null = null;
  const stopAll = async () => {
    if (server?.pid && alive(server.pid)) {
      const s = server;
      const exited = new Promise<void>((resolve) => s.once('exit', () => resolve()));
      s.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (s.exitCode === null && s.signalCode === null) {
        s.kill('SIGKILL');
        await Promise.race([exited, sleep(5_000)]);
      }
    }
    await stopPostgres(pgBin, dir);
  };
  try {
    await setupSchemas(tools.sql, ports.postgres, password, dir, progress);
    const configDir = path.join(dir, 'config');
    mkdirSync(path.join(configDir, 'dynamicconfig'), { recursive: true });
    const shards = options.historyShards ?? 8;
    writeFileSync(path.join(configDir, 'development.yaml'), serverConfig(ports, password, shards, options.tls), { mode: 0o600 });
    writeFileSync(path.join(configDir, 'dynamicconfig', 'development.yaml'), DYNAMIC_CONFIG);
    const logFile = path.join(dir, 'server.log');
    const out = openSync(logFile, 'a');
    progress(`Starting the Temporal server ${TEMPORAL_SERVER_VERSION} (${shards} history shards) on 127.0.0.1:${ports.frontend}`);
    server = spawn(tools.server, ['--root', dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], {
      cwd: dir,
      stdio: ['ignore', out, out],
      detached: true, // its own process group: a Ctrl-C meant for a test runner does not reach it first
    });
    closeSync(out);
    const pid = server.pid;
    if (pid === undefined) throw new Error(`Cannot start ${tools.server}`);
    writeFileSync(
      path.join(dir, 'state.json'),
      JSON.stringify({ serverPid: pid, basePort, dir, startedAt: new Date().toISOString() } satisfies State),
    );
    await waitForFrontend(ports, options.tls, server, logFile, 120_000);
    return { address: `127.0.0.1:${ports.frontend}`, ports, dir, serverPid: pid, stop: stopAll };
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
}

/** Stops a cluster started by another process (`npm run cluster -- down`). */
export async function stopClusterIn(dirOption: string, progress: Progress = () => {}): Promise<void> {
  const dir = path.resolve(dirOption);
  const state = readState(dir);
  if (state && alive(state.serverPid)) {
    progress(`Stopping the Temporal server (pid ${state.serverPid})`);
    process.kill(state.serverPid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (alive(state.serverPid) && Date.now() < deadline) await sleep(200);
    if (alive(state.serverPid)) process.kill(state.serverPid, 'SIGKILL');
  }
  if (existsSync(path.join(dir, 'postgres', 'data', 'postmaster.pid'))) {
    progress('Stopping PostgreSQL');
    await stopPostgres(await ensurePostgres(progress), dir);
  }
}
