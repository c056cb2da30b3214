/**
 * A worker that runs but does not poll its task queue is replaced, or takes the app down (src/temporal/poll-watch.ts,
 * src/temporal/worker-supervisor.ts, src/start.ts),
 * against a real dev server this file starts: `start` runs the real workers; the server lists them as pollers with a
 * time stamp; an identity that never polls is found stuck; and with the limit set below the minute an idle worker's
 * long poll lasts (in the test only: the configuration refuses less than 90 s), the idle workers themselves count as
 * stuck, so `start` must stop on its own and fail naming the task queue, rather than run on. With a replacement budget,
 * each stuck worker is first replaced by a new worker on a connection of its own, which the server lists as a poller
 * and which runs the queue's next task; once the budget is spent, the next stuck worker stops the app.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { NativeConnection } from '@temporalio/worker';
import { parseConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { start } from '../../src/start';
import { describeWorkflowQueue, PollWatch, WorkerStuckError } from '../../src/temporal/poll-watch';
import { connectClient } from '../../src/temporal/connection';
import { isPending, recordAlert } from '../../src/temporal/ingest';
import { CaseKeys } from '../../src/ingest/case-key';
import { bareTemporal } from '../chaos/harness';
import { benignAlert, rawTestConfig, tempDir, unique } from '../helpers/fixtures';
import { freePort } from '../helpers/net';
import { eventually } from '../helpers/temporal';

let server: { stop(): Promise<void> } | null = null;
let address = '';

before(async () => {
  const port = await freePort();
  address = `127.0.0.1:${port}`;
  // Ready once it answers; asked with the client package's own connection: `start` installs the SDK's runtime first
  // (with its logger), so no worker connection may come before it.
  server = await bareTemporal({ port, dbFile: path.join(tempDir('soar-stuck-'), 'temporal.db'), searchAttributes: true });
});

after(() => server?.stop());

test('a running worker that does not poll within the limit stops the app, naming its task queue', { timeout: 180_000 }, async () => {
  const taskQueue = unique('stuck');
  const ingestTaskQueue = unique('stuck-ingest');
  const raw = rawTestConfig({ address, taskQueue });
  const config = parseConfig({ ...raw, temporal: { ...(raw.temporal as object), ingestTaskQueue } }, {});
  assert.equal(config.temporal.worker.stuckAfter, 180_000, 'watched by default');
  // Below an idle worker's long poll: its poll time stamp stands still longer than this, so it counts as stuck.
  config.temporal.worker.stuckAfter = 4_000;
  // Stop at the first stuck worker (replacement is the next test's).
  assert.equal(config.temporal.worker.stuckReplacementsPerHour, 3, 'replaced three times an hour by default');
  config.temporal.worker.stuckReplacementsPerHour = 0;

  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  });
  // `start` installs the SDK's runtime first (with its logger), so nothing here may connect before it is called.
  const startedAt = Date.now();
  const app = start(config, logger, { worker: true, http: false });
  const outcome = app.then(
    () => null,
    (err: unknown) => err,
  );

  const connection = await NativeConnection.connect({ address });
  try {
    const describe = describeWorkflowQueue(connection, config.temporal.namespace);
    const identity = `${process.pid}@${os.hostname()}`;
    // The server lists this process's workers as pollers of both queues, each with the time of its last poll.
    for (const queue of [taskQueue, ingestTaskQueue]) {
      const mine = await eventually(
        async () => (await describe(queue)).pollers.find((p) => p.identity === identity),
        60_000,
        `a poller on ${queue}`,
      );
      assert.equal(typeof mine.lastAccessTime, 'number');
      assert.ok(Math.abs((mine.lastAccessTime ?? 0) - Date.now()) < 5 * 60_000, 'the time stamp is a recent time');
      // And the queue's statistics (the starved sign): an idle queue has no backlog.
      const { backlog } = await describe(queue);
      assert.ok(backlog, 'the server reports the statistics of the queue');
      assert.deepEqual({ count: backlog.count, ageMs: backlog.ageMs }, { count: 0, ageMs: 0 });
      assert.equal(typeof backlog.dispatchRate, 'number');
    }
    // An identity that never polled that queue: quiet from the first check, stuck once the limit has passed.
    const ghost = new PollWatch(describe, 'ghost@nowhere', 2_000);
    assert.equal((await ghost.check(taskQueue)).state, 'polling');
    const quiet = await eventually(
      async () => {
        const check = await ghost.check(taskQueue);
        return check.state === 'stuck' ? check : null;
      },
      10_000,
      'the ghost found stuck',
    );
    assert.ok(quiet.quietForMs >= 2_000, `quiet for ${quiet.quietForMs} ms`);
  } finally {
    await connection.close();
  }

  const err = await outcome;
  assert.ok(err instanceof Error, '`start` ended with an error');
  assert.match(err.message, /^A worker got stuck \(see the log\)$/);
  assert.ok(err.cause instanceof WorkerStuckError, String(err.cause));
  assert.ok([taskQueue, ingestTaskQueue].includes(err.cause.taskQueue), err.cause.taskQueue);
  assert.ok(err.cause.quietForMs >= 4_000, `quiet for ${err.cause.quietForMs} ms`);
  // It stopped on its own: within the limit, a few checks and the drain, not after a timeout of this test.
  assert.ok(Date.now() - startedAt < 120_000, `stopped after ${Date.now() - startedAt} ms`);
  const logged = lines.map((l) => JSON.parse(l) as { level: string; msg: string });
  assert.ok(logged.some((l) => l.level === 'error' && l.msg === 'A worker is stuck; stopping the app'));
  assert.ok(logged.some((l) => l.msg === 'Draining the workers'));
});

test('a stuck worker is replaced by a new one that takes its queue\'s tasks; past the budget the app stops', { timeout: 180_000 }, async () => {
  const taskQueue = unique('replaced');
  const ingestTaskQueue = unique('replaced-ingest');
  const raw = rawTestConfig({ address, taskQueue });
  const config = parseConfig({ ...raw, temporal: { ...(raw.temporal as object), ingestTaskQueue } }, {});
  // Idle workers count as stuck (above); each queue's worker may be replaced once, and the next stuck one stops the app.
  config.temporal.worker.stuckAfter = 6_000;
  config.temporal.worker.stuckReplacementsPerHour = 1;
  // As shipped: an alert is recorded by signal, and its case index routes it in a workflow task of its own.
  config.ingest.answerWithin = 0;

  const logged: { level: string; msg: string; taskQueue?: string; identity?: string; stuckIdentity?: string }[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(JSON.parse(chunk.toString()) as (typeof logged)[number]);
        done();
      },
    }),
  });
  const app = start(config, logger, { worker: true, http: false });
  const outcome = app.then(
    () => null,
    (err: unknown) => err,
  );

  const identity = `${process.pid}@${os.hostname()}`;
  const replacedIdentity = `${identity}/replacement-1`;
  try {
    const replaced = await eventually(
      () =>
        Promise.resolve(
          logged.find((l) => l.msg === 'A worker is stuck: replaced by a new worker on a connection of its own' && l.taskQueue === ingestTaskQueue),
        ),
      60_000,
      'the ingest worker replaced',
    );
    assert.equal(replaced.level, 'error');
    assert.equal(replaced.stuckIdentity, identity);
    assert.equal(replaced.identity, replacedIdentity);

    const client = await connectClient(config.temporal);
    try {
      // The server lists the replacement as a poller of the queue.
      const connection = await NativeConnection.connect({ address });
      try {
        const describe = describeWorkflowQueue(connection, config.temporal.namespace);
        await eventually(async () => (await describe(ingestTaskQueue)).pollers.some((p) => p.identity === replacedIdentity), 10_000, 'the replacement polling');
      } finally {
        await connection.close();
      }
      // An alert recorded now is routed by its case index, in a workflow task the replacement ran.
      const recorded = await recordAlert(client, config, new CaseKeys(null), benignAlert());
      assert.ok(isPending(recorded));
      const index = client.workflow.getHandle(recorded.caseIndexId);
      const taskIdentities = await eventually(
        async () => {
          const events = (await index.fetchHistory()).events ?? [];
          const completed = events.filter((e) => e.workflowTaskCompletedEventAttributes);
          return completed.length > 0 ? completed.map((e) => e.workflowTaskCompletedEventAttributes?.identity) : null;
        },
        10_000,
        "the case index's first workflow task completed",
      );
      assert.deepEqual([...new Set(taskIdentities)], [replacedIdentity]);
    } finally {
      await client.connection.close();
    }

  } catch (err) {
    // A failed assertion must not leave the app running: stop it as Ctrl-C would.
    process.emit('SIGTERM', 'SIGTERM');
    await outcome;
    throw err;
  }

  // The replacements idle too, and the budget is spent: the next stuck worker stops the app.
  const err = await outcome;
  assert.ok(err instanceof Error, '`start` ended with an error');
  assert.ok(err.cause instanceof WorkerStuckError, String(err.cause));
  // Both queues' replacements are the first of their queue (the base identity is the process's).
  assert.equal(err.cause.identity, replacedIdentity);
  assert.ok(logged.some((l) => l.level === 'error' && l.msg === 'A worker is stuck; stopping the app'));
});
