/**
 * The volume rule of version /2: this upload and the user's day so far (in the user's time zone) against the daily
 * baseline. One row per boundary, like test/unit/decide.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BaselineDay, DecisionPolicy, Enrichment, RuleEvaluation } from '../../src/contracts/playbook';
import { localDayOf } from '../../src/enrichment/local-day';
import { DEFAULT_DECISION_POLICY, decide, RULE_VERSION, type CaseUpload } from '../../workflows/decide';
import { escalatingAlert, MiB } from '../helpers/fixtures';

const MB = 1_000_000;

/** Managed device, approved domain, authorized user, business hours: only the volume rule can escalate. */
function enrichment(baseline: Enrichment['baseline']): Enrichment {
  return {
    domain: {
      status: 'ok',
      source: 't',
      value: {
        host: 'acme.sharepoint.com',
        approved: true,
        matchedApprovedDomain: 'acme.sharepoint.com',
        cloudStorageService: 'SharePoint',
        isIpLiteral: false,
      },
    },
    hr: {
      status: 'ok',
      source: 't',
      value: {
        user: 'jdoe',
        displayName: 'Jane',
        department: 'Finance',
        title: 'Analyst',
        groups: [],
        employmentStatus: 'active',
        manager: 'mmanager',
        timezone: 'America/New_York',
        cloudStorageAuthorized: true,
      },
    },
    policyChanges: { status: 'ok', source: 't', value: { windowDays: 90, records: [] } },
    device: { status: 'ok', source: 't', value: { host: 'LAPTOP-JD01', managed: true, owner: 'jdoe', cloudStorageAllowed: true } },
    baseline,
    businessHours: {
      status: 'ok',
      source: 't',
      value: {
        timezone: 'America/New_York',
        timezoneSource: 'hr',
        localTime: '2026-11-27T10:00:00-05:00',
        weekday: 'Friday',
        withinBusinessHours: true,
        reason: 'Friday 09:00-18:00',
      },
    },
  };
}

/** The New York day of the event: an evening upload there is already the next day in UTC. */
const EVENING_IN_NEW_YORK = '2026-11-28T02:30:00.000Z'; // 21:30 on Friday 27 November in New York
const nyDay = (priorBytes: number): BaselineDay => ({
  ...localDayOf(new Date(EVENING_IN_NEW_YORK), 'America/New_York'),
  timezoneSource: 'hr',
  priorBytes,
  priorFrom: 'test',
});

/** 30 days of about 25 MB a day (sd 5 MB), with the event's day so far before this case. */
const baseline = (day: BaselineDay | undefined, stats = { days: 30, meanBytes: 25 * MB, stdDevBytes: 5 * MB }): Enrichment['baseline'] => ({
  status: 'ok',
  source: 't',
  value: { user: 'jdoe', ...stats, ...(day ? { day } : {}) },
});

const upload = (eventTime: string, bytesOut: number): CaseUpload => ({ eventTime, bytesOut });

function volumeRule(
  bytesOut: number,
  base: Enrichment['baseline'],
  caseUploads: CaseUpload[],
  policy: DecisionPolicy = DEFAULT_DECISION_POLICY,
): { outcome: string; rule: RuleEvaluation; version: string } {
  const record = decide(escalatingAlert({ bytesOut, eventTime: EVENING_IN_NEW_YORK }), enrichment(base), policy, caseUploads);
  const rule = record.rules.find((r) => r.rule === 'volume-out-of-norm');
  assert.ok(rule);
  return { outcome: record.outcome, rule, version: record.ruleVersion };
}

describe('the volume rule counts the day so far (rule version /2)', () => {
  test('40 uploads of 40 MB, each under the 50 MiB floor, escalate together: 1.6 GB against a norm of 25 MB a day', () => {
    // 39 earlier pieces recorded that day (other cases, or the SIEM's index), and this one.
    const { outcome, rule, version } = volumeRule(40 * MB, baseline(nyDay(39 * 40 * MB)), [upload(EVENING_IN_NEW_YORK, 40 * MB)]);
    assert.equal(version, RULE_VERSION);
    assert.equal(version, 't1567.002-rules/2');
    assert.equal(outcome, 'escalate');
    assert.equal(rule.verdict, 'fired');
    assert.equal(rule.inputs.bytesOut, 40 * MB);
    assert.equal(rule.inputs.dayBytes, 1600 * MB);
    assert.equal(rule.inputs.dayPriorBytes, 1560 * MB);
    assert.equal(rule.inputs.caseDayBytes, 40 * MB);
    assert.equal(rule.inputs.firedOn, 'day');
    assert.equal(rule.inputs.zScore, undefined, 'this upload is under the floor: no z-score for it');
    assert.equal(rule.inputs.dayZScore, 315);
    assert.match(rule.explanation, /^This upload: 38\.1 MiB, under the 50\.0 MiB floor\. /);
    assert.match(
      rule.explanation,
      /The day so far \(2026-11-27, America\/New_York\): 1\.5 GiB .* 315\.0 standard deviations .* Fired on the day so far\.$/,
    );
    assert.equal(
      rule.threshold,
      'z-score >= 3 (30 days of history), for this upload and for the day so far; volumes under 50.0 MiB never count',
    );
  });

  test('the pieces that joined the case before the decision count as well as the earlier ones', () => {
    const pieces = Array.from({ length: 10 }, (_, i) =>
      upload(new Date(Date.parse(EVENING_IN_NEW_YORK) + i * 60_000).toISOString(), 40 * MB),
    );
    const { rule } = volumeRule(40 * MB, baseline(nyDay(0)), pieces);
    assert.equal(rule.inputs.caseDayUploads, 10);
    assert.equal(rule.inputs.dayBytes, 400 * MB);
    assert.equal(rule.inputs.firedOn, 'day');
  });

  const rows: { name: string; bytesOut: number; prior: number; outcome: string; firedOn: string | null }[] = [
    { name: 'a small upload on a quiet day stays under the floor', bytesOut: 10 * MB, prior: 0, outcome: 'benign', firedOn: null },
    {
      name: 'a day total just under the floor never counts, however far from the mean',
      bytesOut: 10 * MB,
      prior: 50 * MiB - 10 * MB - 1,
      outcome: 'benign',
      firedOn: null,
    },
    {
      name: 'a day total at z = 3 but under the floor (40 MB) does not fire',
      bytesOut: 30 * MB,
      prior: 10 * MB,
      outcome: 'benign',
      firedOn: null,
    },
    // mean 25 MB, sd 5 MB: z = 3 at 40 MB, but the floor (52.4 MB) comes first; 60 MB is z = 7.
    {
      name: 'a day total over the floor and z >= 3 fires on the day',
      bytesOut: 30 * MB,
      prior: 30 * MB,
      outcome: 'escalate',
      firedOn: 'day',
    },
    {
      name: 'one large upload fires on the upload and the day',
      bytesOut: 700 * MB,
      prior: 0,
      outcome: 'escalate',
      firedOn: 'upload and day',
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const { outcome, rule } = volumeRule(row.bytesOut, baseline(nyDay(row.prior)), [upload(EVENING_IN_NEW_YORK, row.bytesOut)]);
      assert.equal(outcome, row.outcome, rule.explanation);
      assert.equal(rule.inputs.firedOn, row.firedOn);
      assert.equal(rule.inputs.dayBytes, row.prior + row.bytesOut);
    });
  }

  test('with short history the 10x rule applies to the day total', () => {
    const short = { days: 4, meanBytes: 10 * MB, stdDevBytes: 2 * MB };
    const under = volumeRule(30 * MB, baseline(nyDay(60 * MB), short), [upload(EVENING_IN_NEW_YORK, 30 * MB)]);
    assert.equal(under.rule.verdict, 'not-fired');
    assert.equal(under.rule.inputs.dayMultipleOfMean, 9);
    const over = volumeRule(40 * MB, baseline(nyDay(60 * MB), short), [upload(EVENING_IN_NEW_YORK, 40 * MB)]);
    assert.equal(over.rule.verdict, 'fired');
    assert.equal(over.rule.inputs.dayMultipleOfMean, 10);
    assert.match(over.rule.threshold ?? '', /^>= 10 x the mean \(only 4 days of history\), for this upload and for the day so far/);
  });

  test("the day is the user's: an evening upload in New York counts with that New York day, not the next UTC day", () => {
    const day = nyDay(0);
    assert.equal(EVENING_IN_NEW_YORK.slice(0, 10), '2026-11-28', 'in UTC it is already Saturday');
    assert.deepEqual(
      { date: day.date, start: day.start, end: day.end },
      { date: '2026-11-27', start: '2026-11-27T05:00:00.000Z', end: '2026-11-28T05:00:00.000Z' },
    );
    const caseUploads = [
      upload('2026-11-27T05:00:00.000Z', 30 * MB), // 00:00 Friday in New York: the first instant of the day
      upload(EVENING_IN_NEW_YORK, 30 * MB),
      upload('2026-11-28T05:00:00.000Z', 500 * MB), // 00:00 Saturday in New York: the next day, not counted
      upload('2026-11-27T04:59:59.999Z', 500 * MB), // 23:59:59.999 Thursday in New York: the day before
    ];
    const { rule } = volumeRule(30 * MB, baseline(day), caseUploads);
    assert.equal(rule.inputs.day, '2026-11-27');
    assert.equal(rule.inputs.timezone, 'America/New_York');
    assert.equal(rule.inputs.caseDayUploads, 2);
    assert.equal(rule.inputs.dayBytes, 60 * MB);
  });

  test('an unknown baseline fails closed once the case alone reaches the floor; under it, the floor still rules', () => {
    const down: Enrichment['baseline'] = { status: 'unknown', source: 'baselines', reason: 'elasticsearch is down' };
    const small = volumeRule(10 * MB, down, [upload(EVENING_IN_NEW_YORK, 10 * MB)]);
    assert.equal(small.rule.verdict, 'not-fired');
    const pieces = [upload(EVENING_IN_NEW_YORK, 40 * MB), upload(EVENING_IN_NEW_YORK, 40 * MB)];
    const big = volumeRule(40 * MB, down, pieces);
    assert.equal(big.rule.verdict, 'unknown');
    assert.equal(big.outcome, 'escalate');
    assert.equal(big.rule.inputs.caseBytes, 80 * MB);
    assert.match(big.rule.explanation, /baseline is unknown \(elasticsearch is down\); 76\.3 MiB in this case treated as out of norm/);
  });

  test('a baseline without the day so far fails closed over the floor (the source could not say)', () => {
    const { rule } = volumeRule(60 * MB, baseline(undefined), [upload(EVENING_IN_NEW_YORK, 60 * MB)]);
    assert.equal(rule.verdict, 'unknown');
    assert.match(rule.explanation, /did not report the day so far/);
  });
});
