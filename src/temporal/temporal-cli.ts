/**
 * Finds (or builds) the Temporal CLI, whose `server start-dev` is the embedded Temporal server. One module for
 * `npm start`, the tests and CI. Order:
 *   1. TEMPORAL_CLI_PATH;  2. `temporal` on PATH;  3. the cache outside the repo;
 *   4. `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` into that cache when Go >= 1.25 is present
 *      (pinned: from v1.6.0 the CLI's go.mod has a `replace` directive, so `go install` by version fails);
 *   5. otherwise null: the caller falls back to the SDK's own download (works where there is internet).
 */
import { execFile, spawn } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MIN_GO = [1, 25] as const;

export interface ResolvedCli {
  path: string;
  route: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'go install';
}

export interface ResolveOptions {
  env?: Record<string, string | undefined>;
  /** Progress lines for a human (the first build takes minutes). */
  progress?: (line: string) => void;
}

/** Where the project caches the binaries it builds (the Temporal CLI here; the cluster's server in scripts/lib/cluster.ts). */
export function cacheRoot(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'soar-playbook-worker');
}

export function cacheDir(env: Record<string, string | undefined> = process.env): string {
  return path.join(cacheRoot(env), `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function works(file: string): Promise<boolean> {
  try {
    await execFileAsync(file, ['--version'], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, env: Record<string, string | undefined>): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

async function goVersion(env: Record<string, string | undefined>): Promise<[number, number] | null> {
  const go = await onPath('go', env);
  if (!go) return null;
  try {
    const { stdout } = await execFileAsync(go, ['env', 'GOVERSION'], { timeout: 30_000 });
    const match = /go(\d+)\.(\d+)/.exec(stdout);
    return match ? [Number(match[1]), Number(match[2])] : null;
  } catch {
    return null;
  }
}

function goInstall(target: string, env: Record<string, string | undefined>, progress: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('go', ['install', '-v', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: target, GOFLAGS: env.GOFLAGS ?? '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let packages = 0;
    let tail = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) {
        if (line.startsWith('go: downloading')) continue;
        if (line.trim()) packages++;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setInterval(() => {
      progress(`  ... building the Temporal CLI: ${packages} packages compiled, ${Math.round((Date.now() - started) / 1000)}s elapsed`);
    }, 15_000);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code === 0) {
        progress(`  Temporal CLI built in ${Math.round((Date.now() - started) / 1000)}s`);
        resolve();
      } else reject(new Error(`go install exited with code ${code}:\n${tail}`));
    });
  });
}

/** Returns the CLI to run, or null when only the SDK's download remains (no Go, no binary). */
export async function resolveTemporalCli(options: ResolveOptions = {}): Promise<ResolvedCli | null> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? (() => undefined);

  const explicit = env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!(await works(explicit))) throw new Error(`TEMPORAL_CLI_PATH=${explicit} is not a working Temporal CLI`);
    return { path: explicit, route: 'TEMPORAL_CLI_PATH' };
  }
  const fromPath = await onPath('temporal', env);
  if (fromPath && (await works(fromPath))) return { path: fromPath, route: 'PATH' };

  const dir = cacheDir(env);
  const cached = path.join(dir, 'temporal');
  if ((await isExecutable(cached)) && (await works(cached))) return { path: cached, route: 'cache' };

  const go = await goVersion(env);
  if (go && (go[0] > MIN_GO[0] || (go[0] === MIN_GO[0] && go[1] >= MIN_GO[1]))) {
    progress(`Temporal CLI not found: building ${TEMPORAL_CLI_VERSION} with Go ${go.join('.')} into ${dir}.`);
    progress('  The first build downloads modules and compiles for several minutes on two cores; later runs reuse it.');
    await mkdir(dir, { recursive: true });
    await goInstall(dir, env, progress);
    if (!(await works(cached))) throw new Error(`go install finished but ${cached} does not run`);
    return { path: cached, route: 'go install' };
  }
  progress('No Temporal CLI and no Go >= 1.25: falling back to the SDK download (needs internet).');
  return null;
}
