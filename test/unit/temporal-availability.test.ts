/**
 * When a webhook checks whether Temporal answers before sending an alert: only after a failure, with one probe
 * shared by every caller, a failed verdict reused for a moment, and any success ending the suspicion.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TemporalAvailability } from '../../src/temporal/availability';

/** A probe whose answers the test sets, counting how often it is asked. */
function probe(answers: boolean[]) {
  const state = { asked: 0 };
  const ask = async () => {
    state.asked++;
    await new Promise((r) => setTimeout(r, 20));
    return answers.shift() ?? true;
  };
  return { state, ask };
}

describe('TemporalAvailability', () => {
  test('asks nothing while calls succeed', async () => {
    const { state, ask } = probe([]);
    const availability = new TemporalAvailability(ask);
    assert.equal(await availability.reachable(), true);
    availability.succeeded();
    assert.equal(await availability.reachable(), true);
    assert.equal(state.asked, 0);
  });

  test('after a failure, concurrent callers share one probe and all hear its verdict', async () => {
    const { state, ask } = probe([false]);
    const availability = new TemporalAvailability(ask, { recheckMs: 60_000 });
    availability.failed();
    assert.deepEqual(await Promise.all([availability.reachable(), availability.reachable(), availability.reachable()]), [
      false,
      false,
      false,
    ]);
    assert.equal(state.asked, 1);
    // The failed verdict is reused until recheckMs has passed.
    assert.equal(await availability.reachable(), false);
    assert.equal(state.asked, 1);
  });

  test('a failed verdict is rechecked after recheckMs, and a probe that succeeds ends the suspicion', async () => {
    const { state, ask } = probe([false, true]);
    const availability = new TemporalAvailability(ask, { recheckMs: 50 });
    availability.failed();
    assert.equal(await availability.reachable(), false);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(await availability.reachable(), true);
    assert.equal(availability.suspected, false);
    assert.equal(await availability.reachable(), true);
    assert.equal(state.asked, 2);
  });

  test('a call that succeeds ends the suspicion without a probe', async () => {
    const { state, ask } = probe([false]);
    const availability = new TemporalAvailability(ask, { recheckMs: 60_000 });
    availability.failed();
    assert.equal(await availability.reachable(), false);
    availability.succeeded();
    assert.equal(await availability.reachable(), true);
    assert.equal(state.asked, 1);
  });

  test('confirm probes even without a failure, and only a failed probe makes callers check before sending', async () => {
    const { state, ask } = probe([true, false]);
    const availability = new TemporalAvailability(ask, { recheckMs: 0 });
    assert.equal(await availability.confirm(), true);
    assert.equal(availability.suspected, false);
    assert.equal(await availability.confirm(), false);
    assert.equal(availability.suspected, true);
    assert.equal(state.asked, 2);
  });
});
