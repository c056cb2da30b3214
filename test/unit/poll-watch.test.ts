/**
 * The stuck-worker watch (src/temporal/poll-watch.ts): a worker counts as stuck when the server's time stamp of its
 * last poll has not moved, or it is missing, for the limit, or when its queue starves (a backlog as old as the limit,
 * almost nothing dispatched) for half the limit while it polls now and then; a server that does not answer says nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PollWatch, WorkerStuckError, type QueueBacklog, type QueuePoller, type QueueView } from '../../src/temporal/poll-watch';

const ME = '4242@worker-host';

/** A server whose poller list the test sets, and a clock the test moves. */
function fixture() {
  const state = {
    pollers: [] as QueuePoller[],
    backlog: null as QueueBacklog | null,
    failing: false,
    now: 1_000_000,
    asked: [] as string[],
  };
  const describe = (taskQueue: string): Promise<QueueView> => {
    state.asked.push(taskQueue);
    return state.failing ? Promise.reject(new Error('unavailable')) : Promise.resolve({ pollers: state.pollers, backlog: state.backlog });
  };
  return { state, describe };
}

test('a poller whose time stamp moves is polling; one frozen for the limit is stuck', async () => {
  const { state, describe } = fixture();
  // No gap limit: these checks may be any time apart (the gap rule has a test of its own below).
  const watch = new PollWatch(describe, ME, 180_000, () => state.now, Infinity);
  state.pollers = [
    { identity: 'someone-else', lastAccessTime: 1 },
    { identity: ME, lastAccessTime: 5_000 },
  ];
  assert.deepEqual(await watch.check('q'), { state: 'polling', quietForMs: 0 });
  state.now += 60_000;
  state.pollers = [{ identity: ME, lastAccessTime: 65_000 }];
  assert.deepEqual(await watch.check('q'), { state: 'polling', quietForMs: 0 });
  // Frozen: the server's clock is not compared with ours, only whether the stamp moved.
  state.now += 179_999;
  assert.deepEqual(await watch.check('q'), { state: 'polling', quietForMs: 179_999 });
  state.now += 1;
  assert.deepEqual(await watch.check('q'), { state: 'stuck', reason: 'not polling', quietForMs: 180_000 });
  // It polls again: no longer stuck.
  state.pollers = [{ identity: ME, lastAccessTime: 300_000 }];
  assert.deepEqual(await watch.check('q'), { state: 'polling', quietForMs: 0 });
});

test('a worker missing from the list is as quiet as a frozen one; each task queue on its own', async () => {
  const { state, describe } = fixture();
  const watch = new PollWatch(describe, ME, 180_000, () => state.now, Infinity);
  // Never seen at all: quiet from the first check.
  assert.deepEqual(await watch.check('never'), { state: 'polling', quietForMs: 0 });
  state.pollers = [{ identity: ME, lastAccessTime: 5_000 }];
  await watch.check('a');
  await watch.check('b');
  state.now += 100_000;
  state.pollers = [{ identity: ME, lastAccessTime: 105_000 }];
  assert.deepEqual(await watch.check('a'), { state: 'polling', quietForMs: 0 });
  // Then the server forgets it: missing counts on from the last movement, not from when it went missing.
  state.pollers = [];
  state.now += 179_000;
  assert.deepEqual(await watch.check('a'), { state: 'polling', quietForMs: 179_000 });
  state.now += 1_000;
  assert.deepEqual(await watch.check('a'), { state: 'stuck', reason: 'not polling', quietForMs: 180_000 });
  assert.deepEqual(await watch.check('b'), { state: 'stuck', reason: 'not polling', quietForMs: 280_000 });
  assert.deepEqual(await watch.check('never'), { state: 'stuck', reason: 'not polling', quietForMs: 280_000 });
  assert.deepEqual(state.asked, ['never', 'a', 'b', 'a', 'a', 'a', 'b', 'never']);
});

test('a server that does not answer says nothing about the worker, and the count starts again when it does', async () => {
  const { state, describe } = fixture();
  const watch = new PollWatch(describe, ME, 180_000, () => state.now, Infinity);
  state.pollers = [{ identity: ME, lastAccessTime: 5_000 }];
  await watch.check('q');
  state.failing = true;
  state.now += 600_000;
  assert.deepEqual(await watch.check('q'), { state: 'unknown', quietForMs: 0 });
  // Back after ten minutes, before the worker polled again (a restarted server lists no pollers yet): not stuck.
  state.failing = false;
  state.pollers = [];
  assert.deepEqual(await watch.check('q'), { state: 'polling', quietForMs: 0 });
  state.now += 180_000;
  assert.deepEqual(await watch.check('q'), { state: 'stuck', reason: 'not polling', quietForMs: 180_000 });
});

test('checks further apart than the gap start the count again (the process itself was not running)', async () => {
  const { state, describe } = fixture();
  const watch = new PollWatch(describe, ME, 180_000, () => state.now);
  state.pollers = [{ identity: ME, lastAccessTime: 5_000 }];
  for (let t = 0; t < 6; t++) {
    assert.deepEqual(await watch.check('q'), { state: 'polling', quietForMs: t * 30_000 });
    state.now += 30_000;
  }
  assert.deepEqual(await watch.check('q'), { state: 'stuck', reason: 'not polling', quietForMs: 180_000 });
  // Suspended for an hour: on resume the stamp has not moved yet, and that says nothing about the worker.
  state.now += 3_600_000;
  assert.deepEqual(await watch.check('q'), { state: 'polling', quietForMs: 0 });
  state.now += 90_000;
  assert.deepEqual(await watch.check('q'), { state: 'polling', quietForMs: 90_000 });
  state.now += 90_000;
  assert.deepEqual(await watch.check('q'), { state: 'stuck', reason: 'not polling', quietForMs: 180_000 });
});

test('a queue that starves while its worker polls now and then is stuck after half the limit; a busy or empty one is not', async () => {
  const { state, describe } = fixture();
  const watch = new PollWatch(describe, ME, 180_000, () => state.now, Infinity);
  let access = 1;
  const check = async (backlog: QueueBacklog | null, advanceMs = 30_000) => {
    state.now += advanceMs;
    // The worker polls between checks: its time stamp moves every time, so only the backlog can tell.
    state.pollers = [{ identity: ME, lastAccessTime: access++ }];
    state.backlog = backlog;
    return watch.check('q');
  };
  const starved = { count: 2_533, ageMs: 400_000, dispatchRate: 0.02 };
  assert.deepEqual(await check(starved, 0), { state: 'polling', quietForMs: 0 });
  assert.deepEqual(await check(starved), { state: 'polling', quietForMs: 0 });
  assert.deepEqual(await check(starved), { state: 'polling', quietForMs: 0 });
  assert.deepEqual(await check(starved), { state: 'stuck', reason: 'starved', quietForMs: 90_000 });
  // Tasks handed out again (a storm's backlog, old but moving), then none waiting: the count starts again.
  assert.deepEqual(await check({ ...starved, dispatchRate: 12 }), { state: 'polling', quietForMs: 0 });
  for (let i = 0; i < 5; i++) assert.equal((await check({ count: 0, ageMs: 0, dispatchRate: 0 })).state, 'polling');
  // A backlog younger than the limit is no sign yet, however slow; nor is a server without statistics.
  for (let i = 0; i < 5; i++) assert.equal((await check({ count: 40, ageMs: 170_000, dispatchRate: 0 })).state, 'polling');
  for (let i = 0; i < 5; i++) assert.equal((await check(null)).state, 'polling');
  assert.match(
    new WorkerStuckError('soar-ingest', ME, 90_000, undefined, 'starved').message,
    /task queue soar-ingest \(4242@worker-host\) is running but its queue has starved for 90 s/,
  );
});
