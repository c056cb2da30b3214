/** The bench's storm verdicts (scripts/bench/storm-verdicts.ts) and the event times its alerts carry. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertBody, eventTimes } from '../../scripts/bench/data';
import type { Answer, Delivery } from '../../scripts/bench/send';
import { judgeStorm, type StormItem } from '../../scripts/bench/storm-verdicts';

const key = { user: 'u1', host: 'H1', destDomain: 'acme-share-001.com' };
const item = (kind: StormItem['kind'], alertId: string): StormItem => ({ kind, body: alertBody(alertId, key, '2026-11-25T14:00:00.000Z') });
const answer = (status: number, body: Answer['body'] = null, retryAfter: string | null = null): Answer => ({
  status,
  ms: 5,
  body,
  retryAfter,
});
const delivered = (...attempts: Answer[]): Delivery => ({ attempts, final: attempts[attempts.length - 1] as Answer });
const opened = (workflowId: string) => answer(202, { workflowId, duplicate: false, joined: false });
const joined = (workflowId: string) => answer(202, { workflowId, duplicate: false, joined: true });
const duplicate = (workflowId: string) => answer(200, { workflowId, duplicate: true });

describe('storm verdicts', () => {
  test('a clean storm: one run per case, every alert acknowledged once, resends answered as duplicates', () => {
    const items = [item('new', 'a'), item('join', 'b'), item('duplicate', 'a')];
    const v = judgeStorm(
      items,
      [delivered(opened('run-a')), delivered(joined('run-a')), delivered(duplicate('run-a'))],
      [{ workflowId: 'run-a', alertId: 'a' }],
    );
    assert.deepEqual(
      [v.distinctAlerts, v.resends, v.acknowledged, v.lost, v.recordedTwice, v.duplicateRuns, v.runs, v.cases, v.joinsJoined],
      [2, 1, 2, 0, 0, 0, 1, 1, 1],
    );
  });

  test('an alert with no 2xx after its attempts is lost; a 503 that had recorded shows as acknowledged only as duplicate', () => {
    const items = [item('new', 'a'), item('new', 'b')];
    const v = judgeStorm(
      items,
      [delivered(answer(503, null, '5'), answer(503, null, '5')), delivered(answer(503, null, '5'), duplicate('run-b'))],
      [{ workflowId: 'run-b', alertId: 'b' }],
    );
    assert.equal(v.lost, 1);
    assert.equal(v.acknowledged, 1);
    assert.equal(v.ackedOnlyAsDuplicate, 1);
    assert.equal(v.answers503, 3);
    assert.equal(v.answers503WithoutRetryAfter, 0);
  });

  test('a join that also opened a run of its own is a duplicate run and an alert recorded twice', () => {
    const items = [item('new', 'a'), item('join', 'b'), item('duplicate', 'b')];
    const v = judgeStorm(
      items,
      [delivered(opened('run-a')), delivered(joined('run-a')), delivered(opened('run-b'))],
      [
        { workflowId: 'run-a', alertId: 'a' },
        { workflowId: 'run-b', alertId: 'b' },
      ],
    );
    assert.equal(v.recordedTwice, 1);
    assert.equal(v.duplicateRuns, 1);
  });

  test('a run no answer names is counted, and so is an answered case without a run', () => {
    const v = judgeStorm([item('new', 'a')], [delivered(opened('run-a'))], [{ workflowId: 'run-x', alertId: 'x' }]);
    assert.equal(v.runsNoAnswerNames, 1);
    assert.equal(v.casesWithoutRun, 1);
  });
});

describe('bench event times', () => {
  test('the business-hours time is a Wednesday 14:00 UTC at least a day ago and skips holidays; off-hours is the Saturday 02:00 before', () => {
    const t = eventTimes(new Date('2026-12-26T10:00:00Z'), [{ date: '2026-12-23' }]);
    assert.equal(t.business, '2026-12-16T14:00:00.000Z');
    assert.equal(t.offHours, '2026-12-12T02:00:00.000Z');
  });
});
