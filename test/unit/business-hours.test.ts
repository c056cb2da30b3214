/** Business hours in the user's own time zone, with days, hours and holidays from policy. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateBusinessHours } from '../../src/enrichment/business-hours';

const policy = {
  defaultTimezone: 'UTC',
  days: [1, 2, 3, 4, 5],
  start: '09:00',
  end: '18:00',
  holidays: [{ date: '2026-12-25', name: 'Christmas Day' }],
};

describe('business hours', () => {
  test('02:14 on a Saturday in Berlin is outside, shown in local time', () => {
    const f = evaluateBusinessHours('2026-11-28T01:14:00Z', 'Europe/Berlin', policy);
    assert.deepEqual(f, {
      timezone: 'Europe/Berlin',
      timezoneSource: 'hr',
      localTime: '2026-11-28T02:14:00+01:00',
      weekday: 'Saturday',
      withinBusinessHours: false,
      reason: 'Saturday',
    });
  });

  test('the same instant is a Friday evening in New York: after hours', () => {
    const f = evaluateBusinessHours('2026-11-28T01:14:00Z', 'America/New_York', policy);
    assert.equal(f.localTime, '2026-11-27T20:14:00-05:00');
    assert.equal(f.reason, 'after 18:00');
  });

  test('the start is inclusive and the end exclusive', () => {
    assert.equal(evaluateBusinessHours('2026-11-24T09:00:00Z', null, policy).withinBusinessHours, true);
    assert.equal(evaluateBusinessHours('2026-11-24T08:59:00Z', null, policy).reason, 'before 09:00');
    assert.equal(evaluateBusinessHours('2026-11-24T18:00:00Z', null, policy).reason, 'after 18:00');
  });

  test("a holiday in the user's local date is outside", () => {
    const f = evaluateBusinessHours('2026-12-25T10:00:00Z', 'Europe/London', policy);
    assert.equal(f.withinBusinessHours, false);
    assert.equal(f.reason, 'holiday: Christmas Day');
  });

  test('without an HR time zone the organisation default applies and says so', () => {
    const f = evaluateBusinessHours('2026-11-24T10:00:00Z', null, policy);
    assert.equal(f.timezoneSource, 'organisation-default');
    assert.equal(f.localTime, '2026-11-24T10:00:00Z');
  });

  test('an unknown time zone throws', () => {
    assert.throws(() => evaluateBusinessHours('2026-11-24T10:00:00Z', 'Mars/Olympus', policy), RangeError);
  });
});
