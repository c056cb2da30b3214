/**
 * The playbook worker alone, as `npm start` runs it (the project's own createWorker, wiring and configuration from
 * SOAR_CONFIG), in a process of its own so a test can kill it for real (SIGKILL: no shutdown, no flushed
 * heartbeats). The workflow bundle is built once by the test (SOAR_WORKFLOW_BUNDLE, a file) so a restart takes
 * seconds. Every workflow task replays (no cache). Prints "worker-ready" once it polls.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { connectWorker } from '../../src/temporal/connection';
import { createWorker } from '../../src/worker';
import { createActivityDeps } from '../../src/wiring';

async function main(): Promise<void> {
  const codePath = process.env.SOAR_WORKFLOW_BUNDLE;
  if (!codePath) throw new Error('SOAR_WORKFLOW_BUNDLE: the path of the prebuilt workflow bundle is required');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  const logger = createLogger({ level: 'warn' });
  const connection = await connectWorker(config.temporal);
  const worker = await createWorker({
    config,
    connection,
    deps: createActivityDeps(config, logger),
    workflowBundle: { codePath },
    maxCachedWorkflows: 0,
  });
  const running = worker.run();
  process.stdout.write('worker-ready\n');
  await running;
}

main().catch((err: unknown) => {
  process.stderr.write(`worker-process failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
