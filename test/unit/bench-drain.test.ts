/**
 * The bench's longest stall (scripts/bench/observe.ts): the longest time with runs open and the closed count
 * unchanged, counted from the end of sending (the target's "after any burst"), or from the first close as well.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { longestStall, type DrainSample } from '../../scripts/bench/observe';

/** Samples every half second from t = 0: open and closed counts as given, nothing more expected. */
const samples = (rows: [open: number, closed: number][], expected = 0): DrainSample[] =>
  rows.map(([open, closed], i) => ({ t: i / 2, open, closed, expected }));

test('a stall during the burst counts from the first close, not after it; one after the burst counts in both', () => {
  // Sending ends at 2.5 s. Closes stop from 0.5 s to 2.0 s (1.5 s, during the burst), then from 3.0 s to 4.0 s (1.0 s).
  const drain = samples([
    [3, 0],
    [3, 1],
    [4, 1],
    [5, 1],
    [5, 1],
    [4, 2],
    [3, 3],
    [2, 3],
    [2, 3],
    [1, 4],
    [0, 5],
  ]);
  assert.equal(longestStall(drain, 2.5, true), 1.5);
  assert.equal(longestStall(drain, 2.5, false), 1.0);
});

test('fewer runs closed than expected is work left, with no run open: the backlog waits in the case indexes', () => {
  const drain = samples(
    [
      [1, 0],
      [0, 1],
      [0, 1],
      [0, 1],
      [0, 1],
      [1, 1],
      [0, 2],
    ],
    2,
  );
  assert.equal(longestStall(drain, 0, false), 2.0);
});

test('no run open and none expected is no stall, however long nothing closes', () => {
  const drain = samples([
    [1, 0],
    [0, 1],
    [0, 1],
    [0, 1],
    [0, 1],
  ]);
  assert.equal(longestStall(drain, 0, true), 0);
  assert.equal(longestStall(drain, 0, false), 0);
});
