/**
 * The worker supervisor (src/temporal/worker-supervisor.ts): a stuck worker is replaced by a new one (started before
 * the stuck one is told to stop, with an identity of its own), a few times an hour per task queue; past that budget,
 * or when no replacement can be made, the supervisor fails with the WorkerStuckError; a current worker's failure
 * fails it, a replaced worker's does not; a stop that a current worker does not finish in time says so.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerStuckError, type QueueView } from '../../src/temporal/poll-watch';
import { WorkerSupervisor, type Replacement, type SupervisedWorker, type WorkerLease } from '../../src/temporal/worker-supervisor';

const HOST = '4242@worker-host';

/** A worker whose run ends when it is shut down (or when the test fails it), and whether it polls, as the server says. */
class FakeWorker implements SupervisedWorker {
  state = 'INITIALIZED';
  polls = true;
  shutdownCalls = 0;
  private end!: (err?: Error) => void;
  private readonly ended = new Promise<void>((resolve, reject) => {
    this.end = (err) => (err === undefined ? resolve() : reject(err));
  });
  constructor(readonly options: { identity: string; taskQueue: string }) {}
  getState(): string {
    return this.state;
  }
  run(): Promise<void> {
    this.state = 'RUNNING';
    return this.ended;
  }
  shutdown(): void {
    this.shutdownCalls++;
    // A stuck worker never finishes its drain.
    if (!this.polls) {
      this.state = 'STOPPING';
      return;
    }
    this.state = 'STOPPED';
    this.end();
  }
  crash(err: Error): void {
    this.state = 'FAILED';
    this.end(err);
  }
}

/**
 * Workers polling or not; the server's time stamp of each polling identity moves on every ask. The clock moves 1 ms
 * per reading (a few per check), and the limit is 30 ms: a worker that does not poll is stuck within about a dozen checks.
 */
function fixture(options: { replacementsPerHour: number; failReplace?: boolean }) {
  const workers: FakeWorker[] = [];
  const made: { taskQueue: string; identity: string }[] = [];
  const released: string[] = [];
  const replacements: Replacement[] = [];
  let tick = 0;
  let clock = 1_000_000;
  const describe = (taskQueue: string): Promise<QueueView> => {
    tick++;
    return Promise.resolve({
      pollers: workers
        .filter((w) => w.options.taskQueue === taskQueue && w.polls)
        .map((w) => ({ identity: w.options.identity, lastAccessTime: tick })),
      backlog: null,
    });
  };
  const lease = (taskQueue: string, identity: string): WorkerLease => {
    const worker = new FakeWorker({ identity, taskQueue });
    workers.push(worker);
    return { worker, release: () => Promise.resolve(void released.push(identity)) };
  };
  const supervisor = new WorkerSupervisor([lease('soar-playbooks', HOST), lease('soar-ingest', HOST)], {
    describe,
    stuckAfterMs: 30,
    replacementsPerHour: options.replacementsPerHour,
    replace: (taskQueue, identity) => {
      made.push({ taskQueue, identity });
      return options.failReplace ? Promise.reject(new Error('connection refused')) : Promise.resolve(lease(taskQueue, identity));
    },
    onReplaced: (r) => replacements.push(r),
    intervalMs: 5,
    now: () => (clock += 1),
  });
  return { supervisor, workers, made, released, replacements };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('a stuck worker is replaced by a new one with its own identity, started before the stuck one is told to stop', async () => {
  const { supervisor, workers, made, replacements } = fixture({ replacementsPerHour: 3 });
  const [playbooks, ingest] = workers as [FakeWorker, FakeWorker];
  ingest.polls = false;
  supervisor.watch();
  await until('a replacement', () => replacements.length === 1);
  const fresh = workers[2] as FakeWorker;
  assert.deepEqual(made, [{ taskQueue: 'soar-ingest', identity: `${HOST}/replacement-1` }]);
  assert.equal(fresh.state, 'RUNNING', 'the replacement runs');
  assert.equal(ingest.shutdownCalls, 1, 'the stuck worker was told to stop');
  assert.equal(playbooks.shutdownCalls, 0, 'the polling worker is left alone');
  assert.deepEqual(
    supervisor.workers().map((w) => w.options.identity),
    [HOST, `${HOST}/replacement-1`],
  );
  const [r] = replacements as [Replacement];
  assert.equal(r.taskQueue, 'soar-ingest');
  assert.equal(r.stuckIdentity, HOST);
  assert.equal(r.reason, 'not polling');
  assert.equal(r.withinHour, 1);
  assert.ok(r.quietForMs >= 30, `quiet for ${r.quietForMs} ms`);

  // The replacement polls: no more replacements.
  await sleep(100);
  assert.equal(replacements.length, 1);
  // A stop shuts down both current workers and waits for them, not for the stuck one, which never drains.
  assert.equal(await supervisor.stop(5_000), true);
  assert.equal(fresh.state, 'STOPPED');
  assert.equal(playbooks.state, 'STOPPED');
  assert.equal(ingest.state, 'STOPPING');
  await supervisor.done;
});

test('past the budget a stuck worker fails the supervisor; replacements are numbered per task queue', async () => {
  const { supervisor, workers, replacements, released } = fixture({ replacementsPerHour: 2 });
  // Every ingest worker, replacements included, gets stuck: the old ones are not given back (their runs never end).
  const ingestStuck = () => {
    for (const w of workers) if (w.options.taskQueue === 'soar-ingest') w.polls = false;
  };
  ingestStuck();
  supervisor.watch();
  const timer = setInterval(ingestStuck, 1);
  try {
    const err = await supervisor.done.then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkerStuckError, String(err));
    assert.equal(err.taskQueue, 'soar-ingest');
    assert.equal(err.identity, `${HOST}/replacement-2`);
  } finally {
    clearInterval(timer);
  }
  assert.deepEqual(
    replacements.map((r) => [r.identity, r.withinHour]),
    [
      [`${HOST}/replacement-1`, 1],
      [`${HOST}/replacement-2`, 2],
    ],
  );
  assert.deepEqual(released, [], 'a stuck worker that never stopped keeps its connection');
  await supervisor.stop(50);
});

test('with no budget the first stuck worker fails the supervisor, and nothing is replaced', async () => {
  const { supervisor, workers, made } = fixture({ replacementsPerHour: 0 });
  (workers[0] as FakeWorker).polls = false;
  supervisor.watch();
  await assert.rejects(supervisor.done, (err: unknown) => err instanceof WorkerStuckError && err.taskQueue === 'soar-playbooks');
  assert.deepEqual(made, []);
  await supervisor.stop(50);
});

test('a replacement that cannot be made fails the supervisor with the stuck worker and the cause', async () => {
  const { supervisor, workers } = fixture({ replacementsPerHour: 3, failReplace: true });
  (workers[1] as FakeWorker).polls = false;
  supervisor.watch();
  await assert.rejects(supervisor.done, (err: unknown) => {
    assert.ok(err instanceof WorkerStuckError);
    assert.equal(err.taskQueue, 'soar-ingest');
    assert.match(String((err.cause as Error).message), /connection refused/);
    return true;
  });
  await supervisor.stop(50);
});

test("a current worker's failure fails the supervisor; a replaced worker's is only reported", async () => {
  const { supervisor, workers, replacements } = fixture({ replacementsPerHour: 3 });
  const [playbooks, ingest] = workers as [FakeWorker, FakeWorker];
  ingest.polls = false;
  supervisor.watch();
  await until('a replacement', () => replacements.length === 1);
  let settled = false;
  supervisor.done.then(
    () => (settled = true),
    () => (settled = true),
  );
  ingest.crash(new Error('the replaced worker failed'));
  await sleep(50);
  assert.equal(settled, false, 'the replaced worker does not take the process down');
  playbooks.crash(new Error('fatal'));
  await assert.rejects(supervisor.done, /fatal/);
  await supervisor.stop(50);
});

test('a stop that a current worker does not finish in time resolves false', async () => {
  const { supervisor, workers } = fixture({ replacementsPerHour: 3 });
  supervisor.watch();
  // Stuck, and not yet found so: a stop cannot drain it.
  (workers[0] as FakeWorker).polls = false;
  assert.equal(await supervisor.stop(50), false);
  assert.equal((workers[1] as FakeWorker).state, 'STOPPED');
});
