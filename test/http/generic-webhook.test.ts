/**
 * The generic SIEM webhook's contract for bad input, authentication and an unreachable Temporal. Built with
 * `app.inject()`; the Temporal client points at a closed port, so nothing can be started by accident.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { parseConfig } from '../../src/config';
import { rawTestConfig } from '../helpers/fixtures';

const NOW = new Date('2026-11-28T08:00:00Z');
const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '500ms' }) });
const logger = createLogger({ level: 'silent' });

function app(extra: Record<string, unknown> = {}, recordDeadlineMs = 2_000) {
  const raw = rawTestConfig();
  const config = parseConfig({ ...raw, http: { ...(raw.http as object), ...extra } }, {});
  return buildApp({ config, client: unreachable, logger, now: () => NOW, recordDeadlineMs });
}

const valid = {
  alertId: 'SIEM-123',
  user: 'jdoe',
  host: 'LAPTOP-JD01',
  srcIp: '10.1.2.3',
  destDomain: 'dropbox.com',
  bytesOut: 734003200,
  eventTime: '2026-11-28T01:14:00Z',
  severity: 'high',
  ruleName: 'Large upload to cloud storage',
};

const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }, a = app()) =>
  a.inject({
    method: 'POST',
    url: '/webhooks/siem/generic',
    headers,
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });

describe('POST /webhooks/siem/generic rejects bad input with a message naming what was wrong', () => {
  after(async () => {
    await unreachable.connection.close();
  });

  test('malformed JSON is a 400', async () => {
    const res = await post('{"alertId": ');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'Malformed JSON body');
  });

  test('a content type other than JSON is a 415 naming the type received', async () => {
    const res = await post(JSON.stringify(valid), { 'content-type': 'text/plain' });
    assert.equal(res.statusCode, 415);
    assert.deepEqual(res.json(), {
      error: 'Unsupported content type: send application/json',
      details: [{ path: 'content-type', message: 'got text/plain' }],
    });
  });

  test('a missing field is named', async () => {
    const { user: _user, ...rest } = valid;
    const res = await post(rest);
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { error: 'Invalid alert', details: [{ path: 'user', message: 'is required' }] });
  });

  test('a wrongly typed byte count is named', async () => {
    const res = await post({ ...valid, bytesOut: '700MB' });
    assert.deepEqual(res.json().details, [{ path: 'bytesOut', message: 'must be a number of bytes' }]);
  });

  test('a negative byte count is named', async () => {
    const res = await post({ ...valid, bytesOut: -1 });
    assert.deepEqual(res.json().details, [{ path: 'bytesOut', message: 'must not be negative' }]);
  });

  test('an unexpected field is named', async () => {
    const res = await post({ ...valid, comment: 'hi' });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().details, [{ path: 'comment', message: 'unexpected field' }]);
  });

  test('an empty string is named', async () => {
    const res = await post({ ...valid, host: '' });
    assert.deepEqual(res.json().details, [{ path: 'host', message: 'must not be empty' }]);
  });

  test('a URL in the domain field is named', async () => {
    const res = await post({ ...valid, destDomain: 'https://dropbox.com/x' });
    assert.deepEqual(res.json().details, [{ path: 'destDomain', message: 'must be a host name, not a URL (put URLs in destUrl)' }]);
  });

  test('an event time without a zone is named', async () => {
    const res = await post({ ...valid, eventTime: '2026-11-28 01:14' });
    assert.deepEqual(res.json().details, [
      { path: 'eventTime', message: 'must be an ISO 8601 date-time with a time zone (e.g. 2026-11-28T02:14:00Z)' },
    ]);
  });

  test('an event time in the far future is rejected', async () => {
    const res = await post({ ...valid, eventTime: '2027-06-01T00:00:00Z' });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().details, [{ path: 'eventTime', message: 'is more than 15 minutes in the future' }]);
  });

  test('an event time in the far past is rejected', async () => {
    const res = await post({ ...valid, eventTime: '2020-01-01T00:00:00Z' });
    assert.deepEqual(res.json().details, [{ path: 'eventTime', message: 'is more than a year in the past' }]);
  });

  test('a body over 1 MiB is a 413', async () => {
    const res = await post({ ...valid, ruleName: 'x'.repeat(1024 * 1024) });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error, 'Body exceeds the limit of 1048576 bytes');
  });

  test('a __proto__ key is refused', async () => {
    const res = await post('{"__proto__": {"polluted": true}, "alertId": "x"}');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'Malformed JSON body');
    assert.match(res.json().details[0].message, /forbidden prototype property/);
  });

  test('a body that is not UTF-8 is refused', async () => {
    const res = await post(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'Body is not valid UTF-8');
  });

  test('a JSON array instead of an object is refused', async () => {
    const res = await post([valid]);
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'Invalid alert');
  });

  test('a valid alert while Temporal is unreachable is a 503 with Retry-After, never a 2xx', async () => {
    const res = await post(valid);
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.equal(res.json().error, 'Temporal is unavailable; nothing was recorded, retry later');
    assert.equal(res.json().recorded, false, 'the call never had a connection: certainly not recorded');
  });

  test('once Temporal has failed, the next alert is refused at once, unsent, instead of at the recording deadline', async () => {
    // A recording deadline far above the probe's 1.5 s, so "at once" is told apart from "at the deadline" on a loaded machine.
    const one = app({}, 10_000);
    const first = await post(valid, undefined, one);
    assert.equal(first.statusCode, 503);
    const started = Date.now();
    const next = await post({ ...valid, alertId: 'SIEM-125' }, undefined, one);
    const ms = Date.now() - started;
    assert.equal(next.statusCode, 503);
    assert.equal(next.headers['retry-after'], '5');
    assert.deepEqual(next.json(), { error: 'Temporal is unavailable; nothing was recorded, retry later', details: [], recorded: false });
    assert.ok(ms < 5_000, `answered after the probe, well before the 10 s recording deadline (took ${ms} ms)`);
  });

  test('past ingest.maxInFlight an alert is shed at once with a 503 that says it was not recorded', async () => {
    const raw = rawTestConfig();
    const config = parseConfig({ ...raw, ingest: { maxInFlight: 1 } }, {});
    const one = buildApp({ config, client: unreachable, logger, now: () => NOW, recordDeadlineMs: 2_000 });
    const [first, second] = await Promise.all([post(valid, undefined, one), post({ ...valid, alertId: 'SIEM-124' }, undefined, one)]);
    // The first holds the only slot until Temporal's deadline; the second is refused without being sent.
    assert.equal(first.statusCode, 503);
    assert.equal(first.json().error, 'Temporal is unavailable; nothing was recorded, retry later');
    assert.equal(second.statusCode, 503);
    assert.equal(second.headers['retry-after'], '1');
    assert.equal(second.json().error, 'Overloaded: not recorded, retry after Retry-After');
    // The slot is free again afterwards.
    assert.equal((await post(valid, undefined, one)).json().error, 'Temporal is unavailable; nothing was recorded, retry later');
  });
});

describe('authentication and the read API', () => {
  const token = 'siem-token-0123456789';

  test('with tokens configured, a request without one is a 401 and nothing else is said', async () => {
    const res = await post(valid, { 'content-type': 'application/json' }, app({ webhookTokens: [token] }));
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { error: 'Unauthorized', details: [] });
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="siem"');
  });

  test('a wrong token is a 401', async () => {
    const res = await post(valid, { 'content-type': 'application/json', authorization: 'Bearer nope' }, app({ webhookTokens: [token] }));
    assert.equal(res.statusCode, 401);
  });

  test('the right token gets through to validation', async () => {
    const res = await post({}, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, app({ webhookTokens: [token] }));
    assert.equal(res.statusCode, 400);
  });

  test('a token is required on a non-loopback address', () => {
    const raw = rawTestConfig();
    assert.throws(
      () => parseConfig({ ...raw, http: { host: '0.0.0.0' } }, {}),
      /http\.webhookTokens: required when http\.host \(0\.0\.0\.0\) is not a loopback address/,
    );
  });

  test('GET /runs with a malformed ID is a 400', async () => {
    const res = await app().inject({ method: 'GET', url: '/runs/bad%20id' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().details[0].path, 'workflowId');
  });

  test('GET /runs requires the API token when configured', async () => {
    const res = await app({ apiTokens: [token] }).inject({ method: 'GET', url: '/runs/x' });
    assert.equal(res.statusCode, 401);
  });

  test('GET /healthz is a 503 when Temporal is unreachable', async () => {
    const res = await app().inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), { status: 'unavailable', temporal: 'unreachable' });
  });

  test('an unknown route is a JSON 404', async () => {
    const res = await app().inject({ method: 'GET', url: '/nope?x=1' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: 'No route GET /nope', details: [] });
  });
});
