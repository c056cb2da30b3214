/** `temporal`: where the Temporal service is, how to reach it, payload encryption, and the embedded dev server. */
import { z } from 'zod';
import { durationMs, optionalDurationMs } from './duration';
import { secret } from './secret';

export const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port');

const tls = z.strictObject({
  enabled: z.boolean().default(false),
  serverName: z.string().optional(),
  caCertFile: z.string().optional(),
  clientCertFile: z.string().optional(),
  clientKeyFile: z.string().optional(),
});

/**
 * AES-GCM encryption of every payload (src/temporal/payload-codec.ts). On by default (fail closed). Keys: base64 of
 * 32 bytes, the first encrypts, all decrypt. Without `keys`, the key ring in `keyFile` (default
 * `<dataDir>/payload-codec.keys`), which `npm start` generates on first start.
 */
const payloadCodec = z.strictObject({
  enabled: z.boolean().default(true),
  keys: z.array(z.strictObject({ id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ -'), key: secret() })).default([]),
  keyFile: z.string().optional(),
});

const devServer = z.strictObject({
  /** Start the Temporal CLI's dev server with the app: the one-machine embedded default. */
  enabled: z.boolean().default(false),
  dbFile: z.string().default('.data/temporal.db'),
  uiPort: z.number().int().min(1).max(65535).default(8233),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('warn'),
  /**
   * SQLite settings of its file (the only two the dev server accepts). WAL with a sync on every commit: a commit is
   * on disk before Temporal answers, as with SQLite's default rollback journal, for about half the server CPU per
   * run (docs/performance.md). `synchronous: normal` is faster still but a power cut can lose the last commits
   * (alerts already acknowledged): only for a machine where that is acceptable.
   */
  sqlite: z
    .strictObject({
      journalMode: z.enum(['wal', 'delete', 'truncate', 'persist']).default('wal'),
      synchronous: z.enum(['full', 'extra', 'normal']).default('full'),
    })
    .prefault({}),
});

const workerTuning = z
  .strictObject({
    /** Workflow tasks one worker works on at once; more wait in the server's queue, where no timeout runs. */
    maxConcurrentWorkflowTasks: z.number().int().min(2).default(8),
    /**
     * Long polls the ingest worker (the case indexes) keeps open for workflow tasks, on its task queue and its sticky
     * queue together, half on each. Unset: the SDK's default (as many as the slots, at most 10, a fifth on the task
     * queue). Fewer than the slots lets a new index's first task be taken at once (a poller holds a slot while it
     * waits); the cost is in storms, where the cases then start faster than the playbook worker closes them
     * (src/worker.ts says what was measured).
     */
    ingestWorkflowTaskPolls: z
      .number()
      .int()
      .min(2, 'must be at least 2: one poller for the task queue, one for the sticky queue')
      .optional(),
    /** Activities one worker runs at once. */
    maxConcurrentActivities: z.number().int().min(1).default(100),
    /**
     * Runs each worker keeps in its sticky cache (the playbook worker and the ingest worker, each this many). A cached
     * run costs the process about 1 MiB (measured: 1,000 runs waiting for approval, 1.2 GiB with the SDK's default,
     * which sizes the cache from the heap limit and so grows with every waiting run). A run out of the cache is
     * replayed from its history when it next has work (an approval, a join): tens of events, milliseconds. At least
     * 1: with no cache the SDK can drop a run while its local activity is in flight, and that workflow task then waits
     * out its timeout (10 s) before it is retried.
     */
    maxCachedWorkflows: z
      .number()
      .int()
      .min(1, 'must be at least 1: with no cache, runs whose local activities are in flight stall for a workflow task timeout')
      .default(300),
    /**
     * How long a running worker may go without polling its task queue, as the Temporal server sees it, before it counts
     * as stuck and is replaced (`stuckReplacementsPerHour`), or the process stops with an error so that its supervisor
     * starts it again (src/temporal/poll-watch.ts says when this was seen). An idle worker polls once a minute. 0: not
     * watched.
     */
    stuckAfter: optionalDurationMs
      .refine((ms) => ms === 0 || ms >= 90_000, 'must be 0 (not watched) or at least 90s: an idle worker polls only once a minute')
      .default(180_000),
    /**
     * How many times within an hour a stuck worker of one task queue is replaced inside the process (a new worker on a
     * connection of its own; src/temporal/worker-supervisor.ts) before the process stops instead, so that its supervisor
     * starts it again. 0: stop at the first.
     */
    stuckReplacementsPerHour: z.number().int().min(0).default(3),
    /**
     * On a stop, how long the workers may finish the tasks they hold before running activities are cancelled (their
     * attempt fails and Temporal retries it on the next start). The stop waits for this at most, then closes.
     */
    shutdownGraceTime: durationMs.default(10_000),
    /**
     * Burst pacing (src/temporal/burst-pacer.ts): while alerts arrive, the case indexes start new cases only as fast as
     * the webhook's acknowledgements stay under `ackTarget` (their 90th percentile over the last second), at least
     * `minStartsPerSecond`, and none waits over 5 s; running cases are never held. Only a burst that builds a backlog is
     * paced: `backlog` workflow tasks waiting on the case indexes' task queue (0: paced on the acknowledgements
     * alone). Applies where the HTTP app and the workers share a process. `enabled: false`: new cases start as they come.
     */
    burstPacing: z
      .strictObject({
        enabled: z.boolean().default(false),
        ackTarget: durationMs.refine((ms) => ms >= 1, 'must be at least 1ms').default(50),
        minStartsPerSecond: z.number().positive().default(1),
        quietAfter: durationMs.refine((ms) => ms >= 250, 'must be at least 250ms').default(2_000),
        backlog: z.number().int().min(0, 'must be 0 (pace on the acknowledgements alone) or more').default(50),
      })
      .prefault({}),
  })
  .refine((t) => t.ingestWorkflowTaskPolls === undefined || t.ingestWorkflowTaskPolls < t.maxConcurrentWorkflowTasks, {
    path: ['ingestWorkflowTaskPolls'],
    message: 'must be less than maxConcurrentWorkflowTasks: a poller holds a slot while it waits, and a task it brings needs one more',
  });

export const temporalSection = z.strictObject({
  address: hostPort.default('127.0.0.1:7233'),
  namespace: z.string().min(1).default('default'),
  taskQueue: z.string().min(1).default('soar-playbooks'),
  /**
   * The task queue of the case indexes that record alerts (src/temporal/ingest.ts). Its own queue, polled by its
   * own worker, keeps a webhook's acknowledgement from waiting behind playbook work in a storm. Unset: the case
   * indexes share `taskQueue`.
   */
  ingestTaskQueue: z.string().min(1).optional(),
  /** Worker tuning (src/worker.ts says why each default is what it is). */
  worker: workerTuning.prefault({}),
  /** Where people open runs; used for links in notifications and in `npm start`'s banner. */
  uiUrl: z.url().default('http://127.0.0.1:8233'),
  tls: tls.prefault({}),
  /** Temporal Cloud API key; prefer `env:TEMPORAL_API_KEY`. */
  apiKey: secret().optional(),
  payloadCodec: payloadCodec.prefault({}),
  devServer: devServer.prefault({}),
});
