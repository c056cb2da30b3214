/**
 * The ack scenarios' figures beyond the percentiles (scripts/bench/stats.ts): where an open-loop block's slowest
 * answers were sent (`slowByWindow`), and how long after its ack each case started (`startedAfterAck`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slowByWindow, startedAfterAck } from '../../scripts/bench/stats';

test('answers at or over the threshold are counted by the window of sending they fell in', () => {
  // 2 alerts/s for 10 s, windows of 2 s (4 alerts each): slow ones sent at 0 s, 0.5 s, 4.5 s and 9.5 s.
  const latencies = Array.from({ length: 20 }, () => 10);
  latencies[0] = 150;
  latencies[1] = 100; // exactly the threshold counts
  latencies[9] = 300;
  latencies[19] = Infinity; // an answer that was not 2xx
  assert.deepEqual(slowByWindow(latencies, 2, 2, 100), [2, 0, 1, 0, 1]);
});

test('a partial last window is its own; nothing slow gives zeros; an empty block one empty window', () => {
  assert.deepEqual(slowByWindow([1, 1, 1, 50, 1], 1, 2, 50), [0, 1, 0]);
  assert.deepEqual(slowByWindow([1, 2, 3], 1, 10, 99), [0]);
  assert.deepEqual(slowByWindow([], 20, 10, 1), [0]);
  // NaN (no figure) is not counted as slow.
  assert.deepEqual(slowByWindow([NaN, 5], 1, 1, 1), [0, 1]);
});

test("a run's start is measured from its own alert's ack; runs without an ack time are left out", () => {
  const ackedAt = new Map([
    ['a-0', 1_000],
    ['a-1', 1_050],
    ['a-2', 1_100],
  ]);
  const runs = [
    { alertId: 'a-2', startTime: 1_400 },
    { alertId: 'a-0', startTime: 1_020 },
    { alertId: null, startTime: 1_000 },
    { alertId: 'other', startTime: 5_000 },
    // A case started before its answer was read (the 202 still on its way): a negative delay, kept as it is.
    { alertId: 'a-1', startTime: 1_045 },
  ];
  assert.deepEqual(startedAfterAck(ackedAt, runs), [300, 20, -5]);
  assert.deepEqual(startedAfterAck(new Map(), runs), []);
});
