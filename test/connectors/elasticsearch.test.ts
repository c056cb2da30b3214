/** Elasticsearch `_search` daily aggregation against a stand-in: request body, statistics, error bodies, rate limits. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ElasticsearchClient, type ElasticsearchClientOptions } from '../../src/connectors/elasticsearch/client';
import { ElasticsearchUploadBaselines, type ElasticsearchBaselineOptions } from '../../src/connectors/elasticsearch/upload-baselines';

/** The baselines over their own Elasticsearch client, both from one set of options. */
const baselines = (options: ElasticsearchClientOptions & ElasticsearchBaselineOptions) =>
  new ElasticsearchUploadBaselines(new ElasticsearchClient(options), options);
import {
  ConnectorAuthError,
  ConnectorNotFoundError,
  ConnectorRateLimitedError,
  ConnectorUnavailableError,
} from '../../src/connectors/errors';
import { StandIn } from '../fakes/stand-in';

const API_KEY = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==';
const DAY = 86_400_000;
const END = Date.parse('2026-11-28T00:00:00Z');
const MiB = 1024 * 1024;

/** A search response with one bucket per given daily volume (null: a day without events), ending the day before END. */
function searchResponse(daily: (number | null)[], extra: Record<string, unknown> = {}) {
  const start = END - daily.length * DAY;
  return {
    took: 5,
    timed_out: false,
    _shards: { total: 3, successful: 3, skipped: 0, failed: 0 },
    hits: { max_score: null, hits: [] },
    aggregations: {
      daily: {
        buckets: daily.map((bytes, i) => ({
          key_as_string: new Date(start + i * DAY).toISOString(),
          key: start + i * DAY,
          doc_count: bytes === null ? 0 : 4,
          uploaded_bytes: { value: bytes ?? 0 },
        })),
      },
    },
    ...extra,
  };
}

describe('Elasticsearch upload baselines', () => {
  const es = new StandIn();
  let options: ElasticsearchClientOptions & ElasticsearchBaselineOptions;
  const PATH = '/logs-proxy-*/_search';

  before(async () => {
    await es.start();
  });
  after(() => es.stop());
  beforeEach(() => {
    es.requests.length = 0;
    options = {
      url: es.url,
      apiKey: API_KEY,
      timeoutMs: 2000,
      index: 'logs-proxy-*',
      userField: 'user.name',
      timeField: '@timestamp',
      bytesField: 'http.request.bytes',
      filter: [{ terms: { 'url.registered_domain': ['dropbox.com', 'box.com'] } }],
    };
    es.on('POST', PATH, () => ({ body: searchResponse(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 18 : 22) * MiB)) }));
  });

  test('posts a size-0 search with a daily date_histogram and sum over the 30 days before the event day', async () => {
    await baselines(options).baselineFor('jdoe', '2026-11-28T01:14:00Z');
    const [req] = es.requests;
    assert.equal(req?.path, PATH);
    assert.equal(req?.headers.authorization, `ApiKey ${API_KEY}`);
    assert.equal(req?.headers['content-type'], 'application/json');
    assert.equal(req?.query.get('allow_partial_search_results'), 'false');
    assert.deepEqual(req?.json, {
      size: 0,
      track_total_hits: false,
      query: {
        bool: {
          filter: [
            { term: { 'user.name': 'jdoe' } },
            { range: { '@timestamp': { gte: '2026-10-29T00:00:00.000Z', lt: '2026-11-28T00:00:00.000Z' } } },
            { terms: { 'url.registered_domain': ['dropbox.com', 'box.com'] } },
          ],
        },
      },
      aggs: {
        daily: {
          date_histogram: {
            field: '@timestamp',
            calendar_interval: '1d',
            time_zone: 'UTC',
            min_doc_count: 0,
            extended_bounds: { min: END - 30 * DAY, max: END - DAY },
          },
          aggs: { uploaded_bytes: { sum: { field: 'http.request.bytes' } } },
        },
      },
    });
  });

  test('computes the mean and population standard deviation of the daily totals', async () => {
    const finding = await baselines(options).baselineFor('jdoe', '2026-11-28T01:14:00Z');
    assert.deepEqual(finding, { user: 'jdoe', days: 30, meanBytes: 20 * MiB, stdDevBytes: 2 * MiB });
  });

  test('days before the first upload are no history; quiet days after it count as zero', async () => {
    es.on('POST', PATH, () => ({ body: searchResponse([null, null, null, null, 10 * MiB, null, 30 * MiB]) }));
    const finding = await baselines(options).baselineFor('newbie', '2026-11-28T01:14:00Z');
    // [10, 0, 30] MiB: mean 13.33 MiB, population sd 12.47 MiB.
    assert.deepEqual(finding, {
      user: 'newbie',
      days: 3,
      meanBytes: Math.round((40 * MiB) / 3),
      stdDevBytes: Math.round(Math.sqrt(((10 - 40 / 3) ** 2 + (40 / 3) ** 2 + (30 - 40 / 3) ** 2) / 3) * MiB),
    });
  });

  test('a user with no uploads at all has zero days of history', async () => {
    es.on('POST', PATH, () => ({ body: searchResponse(Array.from({ length: 30 }, () => null)) }));
    assert.deepEqual(await baselines(options).baselineFor('ghost', '2026-11-28T01:14:00Z'), {
      user: 'ghost',
      days: 0,
      meanBytes: 0,
      stdDevBytes: 0,
    });
  });

  test("a bad API key is an auth error with Elasticsearch's type and reason, never the key", async () => {
    es.on('POST', PATH, () => ({
      status: 401,
      headers: { 'www-authenticate': 'ApiKey' },
      body: {
        error: {
          root_cause: [
            {
              type: 'security_exception',
              reason: 'unable to authenticate with provided credentials and anonymous access is not allowed for this request',
            },
          ],
          type: 'security_exception',
          reason: 'unable to authenticate with provided credentials and anonymous access is not allowed for this request',
        },
        status: 401,
      },
    }));
    await assert.rejects(baselines(options).baselineFor('jdoe', '2026-11-28T01:14:00Z'), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(err.message, /^elasticsearch: daily upload volume of jdoe: HTTP 401 .*security_exception.*unable to authenticate/);
      assert.ok(!err.message.includes(API_KEY));
      return true;
    });
  });

  test('a missing index is not found', async () => {
    es.on('POST', PATH, () => ({
      status: 404,
      body: {
        error: { root_cause: [], type: 'index_not_found_exception', reason: 'no such index [logs-proxy-*]', index: 'logs-proxy-*' },
        status: 404,
      },
    }));
    await assert.rejects(
      baselines(options).baselineFor('jdoe', '2026-11-28T01:14:00Z'),
      (err: Error) => err instanceof ConnectorNotFoundError && /index_not_found_exception/.test(err.message),
    );
  });

  test('rejected execution (429) is rate limited; a timed-out or partial search is unavailable, never used', async () => {
    es.on('POST', PATH, () => ({
      status: 429,
      headers: { 'retry-after': '3' },
      body: { error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' }, status: 429 },
    }));
    await assert.rejects(
      baselines(options).baselineFor('jdoe', '2026-11-28T01:14:00Z'),
      (err: Error) => err instanceof ConnectorRateLimitedError && err.retryAfterMs === 3000,
    );
    es.on('POST', PATH, () => ({ body: searchResponse([10 * MiB], { timed_out: true }) }));
    await assert.rejects(baselines(options).baselineFor('jdoe', '2026-11-28T01:14:00Z'), (err: Error) => {
      assert.ok(err instanceof ConnectorUnavailableError);
      assert.match(err.message, /incomplete result \(timed_out true, 0 of 3 shards failed\)/);
      return true;
    });
    es.on('POST', PATH, () => ({ body: searchResponse([10 * MiB], { _shards: { total: 3, successful: 2, skipped: 0, failed: 1 } }) }));
    await assert.rejects(baselines(options).baselineFor('jdoe', '2026-11-28T01:14:00Z'), /1 of 3 shards failed/);
  });

  test('a response without the aggregation is an invalid response naming the path', async () => {
    es.on('POST', PATH, () => ({
      body: { took: 1, timed_out: false, _shards: { total: 1, successful: 1, failed: 0 }, hits: { hits: [] } },
    }));
    await assert.rejects(baselines(options).baselineFor('jdoe', '2026-11-28T01:14:00Z'), /unexpected response \(aggregations: /);
  });
});
