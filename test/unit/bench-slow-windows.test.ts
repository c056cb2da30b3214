/** Where an open-loop block's slowest answers were sent (scripts/bench/stats.ts `slowByWindow`). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slowByWindow } from '../../scripts/bench/stats';

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
