/**
 * How the bench tells serial routing from parallel: the time-weighted overlap of the case indexes' workflow tasks
 * (`inFlightProfile` in scripts/bench/stats.ts) and its one-line report (`indexTaskText`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indexTaskText } from '../../scripts/bench/scenarios';
import { inFlightProfile } from '../../scripts/bench/stats';

test('tasks one after another: the span is spent at none or one, never two', () => {
  // 0-1 s, 1.5-2 s, 2-3 s (an end at the instant of the next start is not an overlap).
  const p = inFlightProfile([
    [0, 1000],
    [1500, 2000],
    [2000, 3000],
  ]);
  assert.equal(p.span, 3);
  assert.deepEqual(p.seconds, [0.5, 2.5, 0]);
  assert.equal(p.max, 1);
});

test('overlapping tasks: two or more counted together in the last bucket, the most at once kept', () => {
  // 0-4 s, 1-3 s, 2-2.5 s: one 0-1, two 1-2, three 2-2.5, two 2.5-3, one 3-4.
  const p = inFlightProfile([
    [0, 4000],
    [1000, 3000],
    [2000, 2500],
  ]);
  assert.equal(p.span, 4);
  assert.deepEqual(p.seconds, [0, 2, 2]);
  assert.equal(p.max, 3);
  // Four buckets tell three apart from two.
  assert.deepEqual(
    inFlightProfile(
      [
        [0, 4000],
        [1000, 3000],
        [2000, 2500],
      ],
      4,
    ).seconds,
    [0, 2, 1.5, 0.5],
  );
});

test('order does not matter; no interval, or only broken ones, is an empty profile', () => {
  const a = inFlightProfile([
    [2000, 3000],
    [0, 1000],
  ]);
  assert.deepEqual(a.seconds, [1, 2, 0]);
  assert.deepEqual(inFlightProfile([]), { span: 0, seconds: [0, 0, 0], max: 0 });
  assert.deepEqual(
    inFlightProfile([
      [5, 1],
      [NaN, 3],
    ]),
    { span: 0, seconds: [0, 0, 0], max: 0 },
  );
});

test('the report names the count, the span, each task and the rate', () => {
  const text = indexTaskText([
    [0, 100],
    [150, 250],
    [250, 400],
    [300, 500],
  ]);
  assert.match(text, /^4 case-index workflow tasks over 0\.5 s \(each p50 100 ms, max 200 ms; 8\.0\/s\)/);
  assert.match(text, /in progress none 0\.1 s, one 0\.3 s, two or more 0\.1 s \(at most 2\)$/);
});
