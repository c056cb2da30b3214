/**
 * `npm start`: everything the SOC needs on one machine, in one terminal. The embedded Temporal dev server (when
 * configured), the playbook worker and the HTTP server; SIGINT/SIGTERM stop all of it cleanly, and the next start
 * resumes the runs in flight (they live in the dev server's SQLite file, not in this process).
 *
 * A stop goes in one order (docs/operations/dev-server.md): the HTTP server stops taking webhooks and answers the
 * ones in flight; the workers drain (within `temporal.worker.shutdownGraceTime`); the connections close; the dev
 * server stops last. This process handles the signals itself: the SDK's own handler is off (src/worker.ts) and the
 * dev server runs in its own process group, so neither starts stopping before its turn.
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
import { describeWorkflowQueue, WorkerStuckError } from './temporal/poll-watch';
import { ensureKeyFile } from './temporal/payload-codec';
import { assertNamespaceReady } from './temporal/setup';
import { resolveTemporalCli } from './temporal/temporal-cli';
import { WorkerSupervisor } from './temporal/worker-supervisor';
import { bundleWorkflows, createIngestWorker, createWorker, installSdkLogger, queueBacklog } from './worker';
import { createActivityDeps, createBurstPacer, pacingLog, warmDataFiles } from './wiring';

export interface Roles {
  worker: boolean;
  http: boolean;
}

export async function start(config: Config, logger: Logger, roles: Roles = { worker: true, http: true }): Promise<void> {
  // The SDK's exporter serves worker metrics, so only a process with workers binds it: an `--http-only` process beside a
  // `--worker-only` one on the same host, with the same configuration, would otherwise fail to start (the address is
  // taken). Its GET /metrics still appends what that address serves: on one host, the worker's.
  installSdkLogger(logger, roles.worker ? config.metrics.sdkPrometheusAddress : undefined);
  const metrics = new PlaybookMetrics();
  // Paces new cases on the webhooks' acknowledgements while alerts arrive (null unless both roles run here).
  const pacer = createBurstPacer(config, roles, pacingLog(logger));
  logger.info({ config: sanitizeConfig(config) }, 'Starting');
  if (roles.worker && config.audit.keys.length === 0) {
    logger.warn(
      { file: config.audit.file },
      'The audit trail is unkeyed (audit.keys is empty): a rewrite with recomputed hashes or a cut tail would not show (docs/operations/audit.md)',
    );
  }
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

  // From the first moment: a signal during start-up stops what has started once the current step is done, rather
  // than killing the process with a dev server left behind.
  let stopSignal: NodeJS.Signals | null = null;
  let wake: (() => void) | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) {
      logger.info({ signal }, 'Already stopping');
      return;
    }
    stopSignal = signal;
    logger.info({ signal }, 'Stopping');
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const removeSignalHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
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
      devServer = await startDevServer(config.temporal, cli.path, logger, { ...(codecEndpoint ? { codecEndpoint } : {}), metrics });
      const server = devServer;
      stops.push(() => server.stop());
    }

    let client: Client | null = null;
    if (roles.http && !stopSignal) {
      client = await connectClient(config.temporal);
      const c = client;
      stops.push(() => c.connection.close());
      await assertNamespaceReady(c.connection, config.temporal.namespace);
    }

    if (roles.worker && !stopSignal) {
      const connection: NativeConnection = await connectWorker(config.temporal);
      stops.push(() => connection.close());
      if (!roles.http) await assertNamespaceReady(connection, config.temporal.namespace);
      logger.info('Bundling workflows and starting the workers');
      // One bundle for both workers: bundling is seconds of CPU at start-up.
      const workflowBundle = await bundleWorkflows(logger);
      const deps = createActivityDeps(config, logger, metrics);
      const warmed = await warmDataFiles(deps);
      if (warmed.length > 0) {
        const failed = warmed.filter((w) => !w.ok);
        const files = warmed.map((w) => ({ file: w.file, ms: w.ms, ...(w.ok ? {} : { error: w.error }) }));
        if (failed.length === 0) logger.info({ files }, 'Data files of the file-backed sources read ahead');
        else logger.warn({ files }, 'Some data files of the file-backed sources cannot be read: their lookups will fail (fail closed)');
      }
      if (pacer) stops.push(() => Promise.resolve(pacer.close()));
      const base = await createWorker({ config, connection, workflowBundle, deps, ...(pacer ? { pacer } : {}) });
      const ingest = await createIngestWorker({ config, connection, workflowBundle, ...(pacer ? { pacer } : {}) });
      // Either worker stopping on its own takes the process down (below); a stop drains both. A worker found running
      // without polling (src/temporal/poll-watch.ts) is replaced by a new one, on a connection of its own, a few times
      // an hour (src/temporal/worker-supervisor.ts); past that it too takes the process down.
      const { stuckAfter, stuckReplacementsPerHour, shutdownGraceTime } = config.temporal.worker;
      const supervisor = new WorkerSupervisor([{ worker: base }, ...(ingest ? [{ worker: ingest }] : [])], {
        describe: describeWorkflowQueue(connection, config.temporal.namespace),
        stuckAfterMs: stuckAfter,
        replacementsPerHour: stuckReplacementsPerHour,
        replace: async (taskQueue, identity) => {
          const own = await connectWorker(config.temporal);
          try {
            const worker =
              taskQueue === base.options.taskQueue
                ? await createWorker({ config, connection: own, workflowBundle, deps, identity, ...(pacer ? { pacer } : {}) })
                : await createIngestWorker({ config, connection: own, workflowBundle, identity, ...(pacer ? { pacer } : {}) });
            if (!worker) throw new Error(`No worker is configured for task queue ${taskQueue}`);
            return { worker, release: () => own.close() };
          } catch (err) {
            await own.close().catch(() => undefined);
            throw err;
          }
        },
        onReplaced: (r) => {
          metrics.workerReplacements.inc({ task_queue: r.taskQueue });
          const { taskQueue, stuckIdentity, identity, quietForMs, reason, withinHour } = r;
          logger.error(
            { taskQueue, stuckIdentity, identity, reason, quietForMs, withinHour, perHour: stuckReplacementsPerHour },
            'A worker is stuck: replaced by a new worker on a connection of its own',
          );
        },
        onRetiredError: (taskQueue, identity, err) => logger.warn({ err, taskQueue, identity }, 'A replaced worker stopped with an error'),
      });
      // At 0 from the start, so that the first replacement is an increase the alert rule sees.
      for (const w of supervisor.workers()) metrics.workerReplacements.inc({ task_queue: w.options.taskQueue }, 0);
      supervisor.watch();
      // The pacing reads the case indexes' backlog (alerts acknowledged, not yet routed).
      pacer?.watchBacklog(queueBacklog(connection, config));
      workerRun = supervisor.done;
      stops.push(async () => {
        logger.info({ graceMs: shutdownGraceTime }, 'Draining the workers');
        // A stuck worker may never finish its drain: the stop goes on after the grace time and half a minute more.
        const drained = await supervisor.stop(shutdownGraceTime + 30_000);
        if (!drained) logger.error({ graceMs: shutdownGraceTime }, 'The workers did not drain in time; stopping without them');
      });
    }

    if (roles.http && client && !stopSignal) {
      const server = devServer;
      app = buildApp({
        config,
        client,
        logger,
        metrics,
        ...(server ? { devServerUp: () => server.up } : {}),
        ...(pacer ? { onWebhookAnswer: (ms: number, status: number) => pacer.observeAnswer(ms, status) } : {}),
      });
      const a = app;
      stops.push(async () => {
        logger.info('Closing the HTTP server: no new webhooks; answering those in flight');
        await a.close();
      });
      await listen(app, config);
    }
  } catch (err) {
    await stopAll();
    removeSignalHandlers();
    throw err;
  }

  if (!stopSignal) {
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
  }

  // A worker that dies on its own (e.g. a fatal error) takes the process down, non-zero, rather than idling silently.
  let workerFailure: unknown = null;
  await new Promise<void>((resolve) => {
    wake = resolve;
    if (stopSignal) resolve();
    workerRun?.catch((err: unknown) => {
      if (stopSignal) return; // a failure while draining is reported by the stop itself
      workerFailure = err;
      logger.error(
        { err },
        err instanceof WorkerStuckError ? 'A worker is stuck; stopping the app' : 'The worker stopped unexpectedly; stopping the app',
      );
      resolve();
    });
  });
  await stopAll();
  removeSignalHandlers();
  if (workerFailure) {
    const what = workerFailure instanceof WorkerStuckError ? 'A worker got stuck' : 'The worker stopped unexpectedly';
    throw new Error(`${what} (see the log)`, { cause: workerFailure });
  }
  logger.info('Stopped');
}
