/**
 * `npm start`: everything the SOC needs on one machine, in one terminal. The embedded Temporal dev server (when
 * configured), the playbook worker and the HTTP server; SIGINT/SIGTERM stop all of it cleanly, and the next start
 * resumes the runs in flight (they live in the dev server's SQLite file, not in this process).
 */
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { type Config, sanitizeConfig } from './config';
import { buildApp } from './http/app';
import type { Logger } from './logger';
import { PlaybookMetrics } from './metrics';
import { listen } from './server';
import { connectClient, connectWorker } from './temporal/connection';
import { startDevServer, type DevServer } from './temporal/dev-server';
import { ensureKeyFile } from './temporal/payload-codec';
import { assertNamespaceReady } from './temporal/setup';
import { resolveTemporalCli } from './temporal/temporal-cli';
import { bundleWorkflows, createIngestWorker, createWorker, installSdkLogger } from './worker';
import { createActivityDeps } from './wiring';

export interface Roles {
  worker: boolean;
  http: boolean;
}

export async function start(config: Config, logger: Logger, roles: Roles = { worker: true, http: true }): Promise<void> {
  installSdkLogger(logger, config.metrics.sdkPrometheusAddress);
  const metrics = new PlaybookMetrics();
  logger.info({ config: sanitizeConfig(config) }, 'Starting');
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.error({ err }, 'Error while stopping');
      }
    }
  };

  let devServer: DevServer | null = null;
  let workerRun: Promise<void> | null = null;
  let app: FastifyInstance | null = null;
  try {
    if (config.temporal.devServer.enabled) {
      const cli = await resolveTemporalCli({ progress: (line) => logger.info(line) });
      if (!cli)
        throw new Error('No Temporal CLI available and no Go toolchain to build one: install the Temporal CLI or set TEMPORAL_CLI_PATH');
      logger.info({ path: cli.path, route: cli.route }, 'Temporal CLI');
      const codec = config.temporal.payloadCodec;
      if (codec.enabled && codec.keys.length === 0 && ensureKeyFile(codec.keyFile)) {
        logger.info({ keyFile: codec.keyFile }, 'Generated the payload encryption key (embedded default; keep this file)');
      }
      const codecEndpoint =
        roles.http && config.temporal.payloadCodec.enabled ? `http://${config.http.host}:${config.http.port}/codec` : undefined;
      devServer = await startDevServer(config.temporal, cli.path, logger, codecEndpoint);
      const server = devServer;
      stops.push(() => server.stop());
    }

    let client: Client | null = null;
    if (roles.http) {
      client = await connectClient(config.temporal);
      const c = client;
      stops.push(() => c.connection.close());
      await assertNamespaceReady(c.connection, config.temporal.namespace);
    }

    if (roles.worker) {
      const connection: NativeConnection = await connectWorker(config.temporal);
      stops.push(() => connection.close());
      if (!roles.http) await assertNamespaceReady(connection, config.temporal.namespace);
      logger.info('Bundling workflows and starting the workers');
      // One bundle for both workers: bundling is seconds of CPU at start-up.
      const workflowBundle = await bundleWorkflows(logger);
      const workers = [
        await createWorker({ config, connection, workflowBundle, deps: createActivityDeps(config, logger, metrics) }),
        ...[await createIngestWorker({ config, connection, workflowBundle })].filter((w) => w !== null),
      ];
      const runs = workers.map((w) => w.run());
      // Either worker stopping on its own takes the process down (below); Ctrl-C stops both.
      workerRun = Promise.all(runs).then(() => undefined);
      stops.push(async () => {
        // The SDK's own signal handlers may have begun the shutdown already: ask only workers still running, then wait
        // for all of them, so the connection is closed only once no worker holds it.
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await Promise.allSettled(runs);
      });
    }

    if (roles.http && client) {
      app = buildApp({ config, client, logger, metrics });
      const a = app;
      stops.push(() => a.close());
      await listen(app, config);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }

  const base = `http://${config.http.host}:${config.http.port}`;
  const lines = [
    '',
    'SOAR playbook worker (T1567.002) is running:',
    `  Temporal Web UI   ${devServer?.uiUrl ?? config.temporal.uiUrl}`,
    `  Temporal server   ${config.temporal.address} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`,
    ...(roles.http
      ? [
          `  SIEM webhooks     POST ${base}/webhooks/siem/{generic,splunk,elastic,sentinel}`,
          `  API document      GET  ${base}/openapi.json`,
          `  Run state         GET  ${base}/runs/<workflowId>`,
          `  Health            GET  ${base}/healthz`,
          `  Metrics           GET  ${base}/metrics`,
          ...(config.temporal.payloadCodec.enabled ? [`  Codec (for the UI) POST ${base}/codec/{encode,decode}`] : []),
        ]
      : []),
    ...(roles.worker ? [`  Worker            ${roles.http ? 'running in this process' : 'running'}`] : []),
    '  Stop with Ctrl-C.',
    '',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
  logger.info({ http: roles.http ? base : null, temporalUi: devServer?.uiUrl ?? config.temporal.uiUrl }, 'Ready');

  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'Stopping');
      stopAll().then(resolve, reject);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // A worker that dies on its own (e.g. lost server) takes the process down rather than idling silently.
    workerRun?.catch((err: unknown) => {
      logger.error({ err }, 'The worker stopped unexpectedly');
      onSignal('SIGTERM');
    });
  });
  logger.info('Stopped');
}
