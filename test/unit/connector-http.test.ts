/** The shared vendor HTTP plumbing against a real local server: error mapping and rate-limit signals. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import {
  ConnectorAuthError,
  ConnectorInvalidResponseError,
  ConnectorNotFoundError,
  ConnectorRateLimitedError,
  ConnectorUnavailableError,
} from '../../src/connectors/errors';
import { createHttpClient, requestJson, retryAfterMs } from '../../src/connectors/http';
import { StandIn } from '../fakes/stand-in';

describe('vendor HTTP plumbing', () => {
  const vendor = new StandIn();
  const schema = z.object({ id: z.string() });
  const get = (path: string) =>
    requestJson(
      createHttpClient({ provider: 'acme', baseURL: vendor.url, timeoutMs: 500 }),
      'acme',
      'look up',
      { method: 'GET', url: path },
      schema,
    );

  before(async () => {
    await vendor.start();
    vendor
      .on('GET', '/ok', () => ({ body: { id: 'x' } }))
      .on('GET', '/bad-shape', () => ({ body: { id: 7 } }))
      .on('GET', '/401', () => ({ status: 401, body: { errorSummary: 'Invalid token provided' } }))
      .on('GET', '/429', () => ({ status: 429, headers: { 'retry-after': '7' }, body: {} }))
      .on('GET', '/503', () => ({ status: 503, body: 'down' }))
      .on('GET', '/slow', () => new Promise((resolve) => setTimeout(() => resolve({ body: { id: 'late' } }), 2000)));
  });
  after(() => vendor.stop());

  test('validates a good response', async () => {
    assert.deepEqual(await get('/ok'), { id: 'x' });
  });

  test('a response of the wrong shape is an invalid-response error naming the field', async () => {
    await assert.rejects(
      get('/bad-shape'),
      (err: Error) => err instanceof ConnectorInvalidResponseError && /acme: look up: unexpected response \(id: /.test(err.message),
    );
  });

  test('401 is an auth error carrying the vendor reason', async () => {
    await assert.rejects(get('/401'), (err: Error) => err instanceof ConnectorAuthError && err.message.includes('Invalid token provided'));
  });

  test('404 is not-found, 429 carries Retry-After, 503 and timeouts are unavailable', async () => {
    await assert.rejects(get('/nope'), ConnectorNotFoundError);
    await assert.rejects(get('/429'), (err: Error) => err instanceof ConnectorRateLimitedError && err.retryAfterMs === 7000);
    await assert.rejects(get('/503'), ConnectorUnavailableError);
    await assert.rejects(get('/slow'), ConnectorUnavailableError);
  });

  test("reads each vendor's rate-limit header", () => {
    const now = Date.parse('2026-11-28T00:00:00Z');
    assert.equal(retryAfterMs({ 'retry-after': '2' }, now), 2000);
    assert.equal(retryAfterMs({ 'retry-after': 'Sat, 28 Nov 2026 00:00:05 GMT' }, now), 5000);
    assert.equal(retryAfterMs({ 'x-rate-limit-reset': String(now / 1000 + 30) }, now), 30_000);
    assert.equal(retryAfterMs({ 'x-ratelimit-retryafter': String(now / 1000 + 3) }, now), 3000);
    assert.equal(retryAfterMs({}, now), null);
  });
});
