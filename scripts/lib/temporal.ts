/**
 * The real Temporal dev server for tests and scripts, from the same CLI resolver `npm start` and CI use. Here rather
 * than in test/helpers so scripts import nothing from test/; test/helpers re-exports it.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type RuntimeOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { dataConverterFor } from '../../src/temporal/payload-codec';
import { decideApproval } from '../../src/temporal/playbook-runs';
import { createWorker, WORKFLOWS_PATH } from '../../src/worker';
import { createActivityDeps } from '../../src/wiring';
import { getStateQuery } from '../../workflows/messages';
import { TEST_PAYLOAD_KEY, testConfig, unique } from './fixtures';

let runtimeInstalled = false;

/** The data converter of test clients: the same payload encryption key as the test configuration's workers. */
export const testDataConverter = dataConverterFor({ enabled: true, keys: [TEST_PAYLOAD_KEY], keyFile: '' });

export interface TestServerOptions {
  /** The SDK runtime for this test process (once per process), e.g. with a Prometheus exporter. */
  runtime?: RuntimeOptions;
  /** Serve the Web UI on this port. */
  uiPort?: number;
  /** More `temporal server start-dev` flags, e.g. `--ui-codec-endpoint`. */
  extraArgs?: string[];
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    // Keep test output readable: the SDK's own logs at WARN and above only.
    Runtime.install({ logger: new DefaultLogger('WARN'), ...options.runtime });
    runtimeInstalled = true;
  }
  const cli = await resolveTemporalCli();
  const start = () =>
    TestWorkflowEnvironment.createLocal({
      server: {
        ...(cli ? { executable: { type: 'existing-path', path: cli.path } } : {}),
        ip: '127.0.0.1',
        searchAttributes: ALL_SEARCH_ATTRIBUTES,
        ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
        ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}),
      },
      // env.client encrypts and decrypts like the workers the test configuration builds.
      client: { dataConverter: testDataConverter },
    });
  // The CLI picks some of its ports itself (HTTP API, metrics, internal services) and binds them a moment later; on a
  // busy test machine another process can take one in between and the server exits. Start it again, twice at most,
  // as the app's own dev server start does (src/temporal/dev-server.ts).
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 3) throw err;
      console.warn(`The test dev server did not start (attempt ${attempt} of 3): ${(err as Error).message}; starting it again`);
    }
  }
}

let bundle: Promise<WorkflowBundleWithSourceMap> | null = null;
/** Bundle once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  return bundle;
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A dev server and one playbook worker with the file connectors and fixture data: for scripts and benchmarks. */
export async function startServerWithWorker(taskQueuePrefix: string): Promise<{
  env: TestWorkflowEnvironment;
  config: Config;
  stop: () => Promise<void>;
}> {
  const env = await startTestServer();
  const config = testConfig({ taskQueue: unique(taskQueuePrefix) });
  let running: Promise<void>;
  let worker: Awaited<ReturnType<typeof createWorker>>;
  try {
    worker = await createWorker({
      config,
      connection: env.nativeConnection,
      deps: createActivityDeps(config, createLogger({ level: 'silent' })),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
  } catch (err) {
    // No orphaned dev server when the worker cannot start.
    await env.teardown();
    throw err;
  }
  return {
    env,
    config,
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/** Waits until the run has asked for approval, then decides as `alice`. */
export async function decideWhenAsked(client: Client, handle: WorkflowHandle, decision: 'approve' | 'deny'): Promise<void> {
  await eventually(async () => (await handle.query(getStateQuery)).approval.notifiedVia !== null, 30_000, 'the approval request');
  await decideApproval(client, handle.workflowId, { decision, approver: 'alice', via: 'cli' });
}
