/**
 * The Elasticsearch baseline with the user's time zone (volume rule /2): one `_search` of the same shape covers the
 * user's 30 local days and the event's local day so far. The stand-in evaluates the search over a set of upload
 * events the way Elasticsearch does (term, range, a daily date_histogram in the request's time zone with min_doc_count
 * 0 and extended_bounds, a sum per bucket), with its own time-zone arithmetic, independent of the code under test.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ElasticsearchClient } from '../../src/connectors/elasticsearch/client';
import { ElasticsearchUploadBaselines, type ElasticsearchBaselineOptions } from '../../src/connectors/elasticsearch/upload-baselines';
import type { RecordedUploads } from '../../src/contracts/ports';
import { StandIn, type RecordedRequest } from '../fakes/stand-in';

const PATH = '/logs-proxy-*/_search';
const MB = 1_000_000;
const NY = 'America/New_York';
/** 21:30 on Friday 27 November in New York: already Saturday in UTC. */
const EVENT = '2026-11-28T02:30:00.000Z';

interface UploadEvent {
  user: string;
  at: string;
  bytes: number;
}

/** The local calendar date and wall time of an instant in a time zone, e.g. ["2026-11-27", "21:30"]. */
function wall(ms: number, timezone: string): [string, string] {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return [`${parts.year}-${parts.month}-${parts.day}`, `${parts.hour}:${parts.minute}`];
}

/** The UTC instant of local midnight starting `date` in `timezone`: searched hour by hour, as a check by other means. */
function midnight(date: string, timezone: string): number {
  const utc = Date.parse(`${date}T00:00:00Z`);
  for (let h = -14; h <= 14; h++) {
    const t = utc - h * 3_600_000;
    const [d, time] = wall(t, timezone);
    if (d === date && time === '00:00') return t;
  }
  throw new Error(`no midnight for ${date} in ${timezone}`);
}

/** Elasticsearch's answer to the baseline search over `events`. */
function evaluate(req: RecordedRequest, events: UploadEvent[]) {
  const body = req.json as {
    query: { bool: { filter: Record<string, Record<string, unknown>>[] } };
    aggs: { daily: { date_histogram: { time_zone: string; extended_bounds: { min: number; max: number } } } };
  };
  const [term, range] = body.query.bool.filter;
  const user = (term?.term as Record<string, string>)['user.name'];
  const { gte, lt } = (range?.range as Record<string, { gte: string; lt: string }>)['@timestamp'] ?? { gte: '', lt: '' };
  const { time_zone: tz, extended_bounds: bounds } = body.aggs.daily.date_histogram;
  const sums = new Map<number, { count: number; bytes: number }>();
  for (let key = bounds.min; key <= bounds.max; key = midnight(wall(key + 36 * 3_600_000, tz)[0], tz)) {
    sums.set(key, { count: 0, bytes: 0 });
  }
  for (const e of events) {
    const t = Date.parse(e.at);
    if (e.user !== user || t < Date.parse(gte) || t >= Date.parse(lt)) continue;
    const key = midnight(wall(t, tz)[0], tz);
    const bucket = sums.get(key) ?? { count: 0, bytes: 0 };
    sums.set(key, { count: bucket.count + 1, bytes: bucket.bytes + e.bytes });
  }
  return {
    took: 3,
    timed_out: false,
    _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
    hits: { max_score: null, hits: [] },
    aggregations: {
      daily: {
        buckets: [...sums.entries()]
          .sort(([a], [b]) => a - b)
          .map(([key, b]) => ({ key, key_as_string: new Date(key).toISOString(), doc_count: b.count, uploaded_bytes: { value: b.bytes } })),
      },
    },
  };
}

/** Nothing recorded: Elasticsearch holds the day itself (the recorded alerts are the file source's complement). */
const nothingRecorded: RecordedUploads = {
  name: 'none',
  uploadsOf: () => Promise.reject(new Error('the Elasticsearch source must not need the recorded alerts')),
};

describe("Elasticsearch: the user's local days and the event's day so far", () => {
  const es = new StandIn();
  const options: ElasticsearchBaselineOptions = {
    index: 'logs-proxy-*',
    userField: 'user.name',
    timeField: '@timestamp',
    bytesField: 'http.request.bytes',
    filter: [{ terms: { 'url.registered_domain': ['dropbox.com'] } }],
  };
  let events: UploadEvent[] = [];

  before(() => es.start());
  after(() => es.stop());
  beforeEach(() => {
    es.requests.length = 0;
    events = [];
    es.on('POST', PATH, (req) => ({ body: evaluate(req, events) }));
  });

  const source = () =>
    new ElasticsearchUploadBaselines(new ElasticsearchClient({ url: es.url, apiKey: 'a2V5OnNlY3JldA==', timeoutMs: 5000 }), options);

  test('posts one search over the 30 New York days before the event and that day up to the event, bucketed in New York time', async () => {
    await source().baselineFor('jdoe', EVENT, { timezone: NY, timezoneSource: 'hr', recorded: nothingRecorded });
    const [req] = es.requests;
    const body = req?.json as Record<string, unknown>;
    assert.deepEqual((body.query as { bool: { filter: unknown[] } }).bool.filter[1], {
      // 30 whole New York days (28 Oct 00:00 EDT ... 26 Nov), then 27 Nov up to the event.
      range: { '@timestamp': { gte: '2026-10-28T04:00:00.000Z', lt: EVENT } },
    });
    assert.deepEqual((body.aggs as Record<string, { date_histogram: unknown }>).daily?.date_histogram, {
      field: '@timestamp',
      calendar_interval: '1d',
      time_zone: NY,
      min_doc_count: 0,
      extended_bounds: { min: Date.parse('2026-10-28T04:00:00.000Z'), max: Date.parse('2026-11-27T05:00:00.000Z') },
    });
  });

  test("splits the answer into the 30-day baseline and the day so far; the evening upload counts with New York's Friday", async () => {
    // 30 days at 20 / 30 MB alternately, each at noon New York time.
    for (let i = 0; i < 30; i++) {
      const date = wall(Date.parse('2026-10-28T16:00:00Z') + i * 86_400_000, NY)[0];
      events.push({ user: 'jdoe', at: new Date(midnight(date, NY) + 12 * 3_600_000).toISOString(), bytes: (i % 2 ? 30 : 20) * MB });
    }
    // Friday 27 November in New York: 39 pieces of 40 MB between 18:00 and 21:15 local time (23:00Z to 02:15Z).
    for (let i = 0; i < 39; i++)
      events.push({ user: 'jdoe', at: new Date(Date.parse('2026-11-27T23:00:00Z') + i * 5 * 60_000).toISOString(), bytes: 40 * MB });
    events.push({ user: 'jdoe', at: EVENT, bytes: 40 * MB }); // the upload under review: counted by its case, not here
    events.push({ user: 'jdoe', at: '2026-11-28T03:00:00.000Z', bytes: 900 * MB }); // later that evening: after the event
    events.push({ user: 'someone-else', at: '2026-11-27T23:30:00.000Z', bytes: 900 * MB });

    const finding = await source().baselineFor('jdoe', EVENT, { timezone: NY, timezoneSource: 'hr', recorded: nothingRecorded });
    assert.deepEqual(finding, {
      user: 'jdoe',
      days: 30,
      meanBytes: 25 * MB,
      stdDevBytes: 5 * MB,
      day: {
        timezone: NY,
        timezoneSource: 'hr',
        date: '2026-11-27',
        start: '2026-11-27T05:00:00.000Z',
        end: '2026-11-28T05:00:00.000Z',
        priorBytes: 39 * 40 * MB,
        priorFrom: 'elasticsearch:logs-proxy-*, 2026-11-27 up to the event',
      },
    });
  });

  test('in UTC the evening would be split at midnight: only the pieces from 00:00Z count with the event day', async () => {
    for (let i = 0; i < 39; i++)
      events.push({ user: 'jdoe', at: new Date(Date.parse('2026-11-27T23:00:00Z') + i * 5 * 60_000).toISOString(), bytes: 40 * MB });
    const finding = await source().baselineFor('jdoe', EVENT, {
      timezone: 'UTC',
      timezoneSource: 'organisation-default',
      recorded: nothingRecorded,
    });
    assert.equal(finding?.day?.date, '2026-11-28');
    // 00:00Z to 02:30Z on the 28th: the pieces from 00:00Z on (27 of the 39) are that UTC day's.
    assert.equal(finding?.day?.priorBytes, 27 * 40 * MB);
  });

  test('a bucket after the event day is an invalid response, never a baseline', async () => {
    es.on('POST', PATH, (req) => {
      const answer = evaluate(req, []);
      answer.aggregations.daily.buckets.push({
        key: Date.parse('2026-11-28T05:00:00.000Z'),
        key_as_string: '',
        doc_count: 1,
        uploaded_bytes: { value: 1 },
      });
      return { body: answer };
    });
    await assert.rejects(
      source().baselineFor('jdoe', EVENT, { timezone: NY, timezoneSource: 'hr', recorded: nothingRecorded }),
      /expected at most 31 daily buckets up to 2026-11-27T05:00:00.000Z, got 32/,
    );
  });
});
