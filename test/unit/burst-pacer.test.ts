/**
 * Burst pacing (src/temporal/burst-pacer.ts), on a manual clock: outside a burst every case start is admitted at once;
 * while alerts arrive and their acknowledgements are slow, starts wait for the pace, in order; the pace halves from
 * what was really started, rises again when the acknowledgements are quick, never falls below its minimum, and ends
 * with the burst (admitting whatever waits); a refusal for load counts as slow; a start waits no longer than its
 * longest wait; an aborted admission rejects and leaves no waiter. With the case indexes' backlog watched, only a burst
 * that builds one is paced (a closed loop is not; an unreadable backlog counts as none), and the pacing stops once it is
 * routed, while the alerts still come. And the wiring: on in the shipped file, off in a configuration that does not
 * ask for it, and only where the webhooks are answered in the same process.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, parseConfig } from '../../src/config';
import { BurstPacer, TICK_MS, type BurstPacingOptions, type PacingEvent } from '../../src/temporal/burst-pacer';
import { createBurstPacer } from '../../src/wiring';
import { rawTestConfig } from '../helpers/fixtures';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Whether the promise has settled as admitted once the pending callbacks ran. */
async function admitted(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => undefined,
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

function pacerWith(c: ReturnType<typeof clock>, opts: Partial<BurstPacingOptions> = {}) {
  return new BurstPacer({ ackTargetMs: 50, minStartsPerSecond: 1, quietAfterMs: 2000, maxWaitMs: 5000, now: c.now, manualTicks: true, ...opts });
}

/** A second of acknowledgements at `ms` each, 20 of them, ticking as the pacer's timer would. */
function second(p: BurstPacer, c: ReturnType<typeof clock>, ms: number) {
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 5; j++) p.observeAck(ms);
    c.advance(TICK_MS);
    p.tick();
  }
}

test('outside a burst every case start is admitted at once, and none of them counts for the next burst', async () => {
  const c = clock();
  const p = pacerWith(c);
  for (let i = 0; i < 50; i++) assert.equal(await admitted(p.admit()), true);
  assert.deepEqual(p.state(), { inBurst: false, backlog: null, startsPerSecond: Number.POSITIVE_INFINITY, waiting: 0 });
  // A burst begins in the same second, its acknowledgements slow: the pace halves from the burst's own starts (none),
  // not from the 50 before it, so it falls to its minimum.
  for (let i = 0; i < 20; i++) p.observeAck(500);
  c.advance(TICK_MS);
  p.tick();
  assert.equal(p.state().startsPerSecond, 1);
});

test('slow acknowledgements pace the starts, in order; the pace ends with the burst', async () => {
  const c = clock();
  const p = pacerWith(c);
  // Ten cases start in the burst's first second, unpaced, while the acknowledgements are slow.
  p.observeAck(10);
  for (let i = 0; i < 10; i++) assert.equal(await admitted(p.admit()), true);
  second(p, c, 120);
  const paced = p.state().startsPerSecond;
  assert.ok(paced < 10 && paced >= 1, `paced at ${paced}/s after a slow second with 10 starts`);

  // What the pace allows at once goes; then the next waits, and the one after it waits behind it.
  let allowed = 0;
  while (await admitted(p.admit())) allowed++;
  assert.ok(allowed <= Math.max(1, paced), `${allowed} admitted at once`);
  assert.equal(p.state().waiting, 1);
  const second1 = p.admit();
  assert.equal(p.state().waiting, 2);

  // Tokens come back with time: the first in line goes first.
  c.advance(Math.ceil(1000 / paced) + 1);
  p.serve();
  assert.equal(p.state().waiting, 1);
  assert.equal(await admitted(second1), false);

  // No alert for quietAfter: the burst is over, whatever waits goes, and nothing is paced.
  c.advance(2000);
  p.tick();
  assert.equal(await admitted(second1), true);
  assert.deepEqual(p.state(), { inBurst: false, backlog: null, startsPerSecond: Number.POSITIVE_INFINITY, waiting: 0 });
});

test('the pace never falls below its minimum, counts refusals as slow, and rises again when acknowledgements are quick', () => {
  const c = clock();
  const p = pacerWith(c, { minStartsPerSecond: 2 });
  for (let i = 0; i < 30; i++) void p.admit();
  for (let s = 0; s < 5; s++) second(p, c, 500);
  assert.equal(p.state().startsPerSecond, 2);
  // A refusal for load counts as too slow, whatever its latency.
  c.advance(1000);
  for (let i = 0; i < 20; i++) p.observeAck(1, true);
  p.tick();
  assert.equal(p.state().startsPerSecond, 2);
  c.advance(1000);
  for (let s = 0; s < 3; s++) second(p, c, 5);
  assert.ok(p.state().startsPerSecond > 2, `rose to ${p.state().startsPerSecond}/s`);
});

test('no start waits longer than its longest wait, and an aborted one leaves no waiter', async () => {
  const c = clock();
  // Real timers for the longest wait (50 ms here); the pace itself on the manual clock.
  const p = new BurstPacer({ ackTargetMs: 50, minStartsPerSecond: 0.01, quietAfterMs: 60_000, maxWaitMs: 50, now: c.now });
  p.observeAck(10);
  for (let i = 0; i < 10; i++) await p.admit();
  for (let s = 0; s < 3; s++) second(p, c, 500);
  while (await admitted(p.admit()));
  const abort = new AbortController();
  const aborted = p.admit(abort.signal);
  const reason = new Error('activity cancelled');
  abort.abort(reason);
  await assert.rejects(aborted, (err) => err === reason);
  assert.equal(p.state().waiting, 1, 'only the start that was not aborted waits');
  const started = Date.now();
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(p.state().waiting, 0, `admitted after its longest wait (${Date.now() - started} ms)`);
  p.close();
});

/** Lets a backlog read the pacer started finish. */
const flush = () => new Promise((r) => setImmediate(r));

/** A second of slow acknowledgements, the backlog read at its start. */
async function slowSecond(p: BurstPacer, c: ReturnType<typeof clock>) {
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 5; j++) p.observeAck(500);
    c.advance(TICK_MS);
    p.tick();
    await flush();
  }
}

test('with the backlog watched, only a burst that builds a routing backlog is paced; a backlog not read counts as none', async () => {
  const c = clock();
  const p = pacerWith(c, { backlog: 50 });
  let backlog = 5;
  p.watchBacklog(() => Promise.resolve(backlog));
  // A closed loop: each case closes before the next alert comes, its index routes it at once; slow acknowledgements.
  for (let s = 0; s < 10; s++) {
    for (let i = 0; i < 8; i++) assert.equal(await admitted(p.admit()), true, 'not paced without a backlog');
    await slowSecond(p, c);
  }
  assert.equal(p.state().startsPerSecond, Number.POSITIVE_INFINITY);
  assert.equal(p.state().backlog, 5);
  // The backlog cannot be read: none is assumed, nothing paced.
  p.watchBacklog(() => Promise.reject(new Error('unavailable')));
  backlog = 80;
  await slowSecond(p, c);
  await slowSecond(p, c);
  assert.equal(p.state().backlog, null);
  assert.equal(p.state().startsPerSecond, Number.POSITIVE_INFINITY);
  // Alerts come faster than the indexes route them: 80 wait, and the starts are paced.
  p.watchBacklog(() => Promise.resolve(backlog));
  for (let i = 0; i < 20; i++) void p.admit();
  await slowSecond(p, c);
  await slowSecond(p, c);
  assert.ok(p.state().startsPerSecond < 20, `paced at ${p.state().startsPerSecond}/s with a backlog of ${p.state().backlog}`);
  p.close();
});

test('the pacing stops while the alerts still come once no start waits and the backlog is gone', async () => {
  const c = clock();
  const events: PacingEvent[] = [];
  const p = pacerWith(c, { backlog: 10, onPacing: (e) => events.push(e) });
  let backlog = 30;
  p.watchBacklog(() => Promise.resolve(backlog));
  p.observeAck(10);
  p.tick();
  await flush();
  for (let i = 0; i < 20; i++) await p.admit();
  await slowSecond(p, c);
  assert.equal(events[0]?.event, 'paced');
  assert.ok(events[0]?.event === 'paced' && events[0].backlog === 30, `the backlog it was paced on: ${JSON.stringify(events[0])}`);
  let waiting = p.admit();
  while (await admitted(waiting)) waiting = p.admit();
  assert.equal(p.state().waiting, 1, 'a start waits for the pace');
  // The backlog is routed while slow acknowledgements still come: a start waiting keeps the pace.
  backlog = 0;
  await slowSecond(p, c);
  assert.notEqual(p.state().startsPerSecond, Number.POSITIVE_INFINITY, 'still paced while a start waits');
  c.advance(5000);
  p.serve();
  assert.equal(await admitted(waiting), true);
  // No start has waited for quietAfter (2 s), and the backlog is under half of its threshold: the pacing stops.
  for (let s = 0; s < 10 && events.length < 2; s++) await slowSecond(p, c);
  assert.equal(p.state().inBurst, true, 'the alerts still come');
  assert.equal(p.state().startsPerSecond, Number.POSITIVE_INFINITY);
  const ended = events[1];
  assert.ok(ended?.event === 'ended' && !ended.burstOver && ended.heldStarts === 1, JSON.stringify(ended));
});

test('wiring: off unless asked for; paced only where the webhooks are answered in the same process', () => {
  const shipped = loadConfig({ SOAR_CONFIG: 'config/soar.yaml' });
  assert.equal(shipped.temporal.worker.burstPacing.enabled, true, 'on in the shipped file (only a burst that builds a routing backlog is paced)');
  const bare = parseConfig(rawTestConfig(), {});
  assert.equal(bare.temporal.worker.burstPacing.enabled, false, 'a configuration that does not ask for it does not pace');
  assert.equal(createBurstPacer(bare, { worker: true, http: true }), null);
  const raw = rawTestConfig();
  const on = parseConfig({ ...raw, temporal: { ...(raw.temporal as object), worker: { burstPacing: { enabled: true } } } }, {});
  assert.equal(on.temporal.worker.burstPacing.ackTarget, 50);
  assert.equal(on.temporal.worker.burstPacing.backlog, 50);
  assert.ok(createBurstPacer(on, { worker: true, http: true }));
  assert.equal(createBurstPacer(on, { worker: true, http: false }), null, '--worker-only: no acknowledgements to pace on');
  assert.equal(createBurstPacer(on, { worker: false, http: true }), null);
});
