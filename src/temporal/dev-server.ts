/**
 * The embedded default: the Temporal CLI's dev server with persistent SQLite, started and stopped with the app.
 * Production points `temporal.address` at a cluster or Temporal Cloud and leaves `temporal.devServer.enabled` off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { searchAttributeCliArgs } from '../contracts/search-attributes';

export interface DevServer {
  readonly uiUrl: string;
  stop(): Promise<void>;
}

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

/**
 * `codecEndpoint`: the app's `/codec` base URL, so the embedded Web UI decrypts payloads (summaries, inputs, results)
 * for whoever can reach it; the endpoint is open only on loopback, like the UI itself.
 */
export async function startDevServer(
  config: Config['temporal'],
  cliPath: string,
  logger: Logger,
  codecEndpoint?: string,
): Promise<DevServer> {
  const [ip = '127.0.0.1', port = '7233'] = config.address.split(':');
  const dev = config.devServer;
  await mkdir(path.dirname(path.resolve(dev.dbFile)), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    port,
    '--ui-port',
    String(dev.uiPort),
    '--namespace',
    config.namespace,
    '--db-filename',
    dev.dbFile,
    '--log-level',
    dev.logLevel,
    ...searchAttributeCliArgs(),
    // An activity a workflow task schedules goes straight back to the worker that completed the task, instead of a
    // round trip through the task queue: fewer server writes per playbook step. Off by default in the dev server;
    // a cluster sets it in its own dynamic config (docs/operations).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    ...(codecEndpoint ? ['--ui-codec-endpoint', codecEndpoint] : []),
  ];
  const log = logger.child({ component: 'temporal-dev-server' });
  log.info({ cli: cliPath, args }, 'Starting the Temporal dev server');
  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const forward = (level: 'info' | 'warn') => (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) log[level](line.trim());
  };
  child.stdout?.on('data', forward('info'));
  child.stderr?.on('data', forward('warn'));

  const status: { exited: string | null } = { exited: null };
  child.once('exit', (code, signal) => {
    status.exited = `exited with ${signal ?? `code ${code}`}`;
  });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (status.exited)
      throw new Error(`The Temporal dev server ${status.exited} during start-up (is port ${port} or ${dev.uiPort} in use?)`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('The Temporal dev server did not answer within 60s');
    }
    try {
      const connection = await Connection.connect({ address: config.address, connectTimeout: '1s' });
      try {
        await connection.workflowService.getSystemInfo({});
        break;
      } finally {
        await connection.close();
      }
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  log.info('Temporal dev server is up');

  return {
    uiUrl: `http://${ip}:${dev.uiPort}`,
    async stop() {
      if (status.exited) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 15_000))) {
        log.warn('The dev server did not stop within 15s; killing it');
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    },
  };
}
