/**
 * GET /alerts/:caseIndexId/:source/:alertId, the status link of the webhook's "recorded, case pending" answer: bad
 * parameters are refused with a message naming each one, before anything is asked of Temporal. Where a routed alert
 * went is proven end to end in test/e2e/alert-storm.e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { parseConfig } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { alertStatusPath } from '../../src/http/routes/runs';
import { createLogger } from '../../src/logger';
import { rawTestConfig } from '../helpers/fixtures';

const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
const raw = rawTestConfig();
const app = buildApp({
  config: parseConfig({ ...raw, http: { ...(raw.http as object), apiTokens: ['read-token-0123456789abcdef'] } }, {}),
  client,
  logger: createLogger({ level: 'silent' }),
});
const auth = { authorization: 'Bearer read-token-0123456789abcdef' };

describe('the alert status link', () => {
  after(async () => {
    await app.close();
    await client.connection.close();
  });

  test('is built from the case index, the source and the alert ID', () => {
    assert.equal(
      alertStatusPath('t1567-002-cases-dropbox-jdoe-abc', 'splunk', 'SPL-1'),
      '/alerts/t1567-002-cases-dropbox-jdoe-abc/splunk/SPL-1',
    );
  });

  test('needs the read API token', async () => {
    const res = await app.inject({ method: 'GET', url: '/alerts/t1567-002-cases-x/generic/A-1' });
    assert.equal(res.statusCode, 401);
  });

  test('refuses an unknown source and a malformed alert ID, naming each', async () => {
    const res = await app.inject({ method: 'GET', url: '/alerts/t1567-002-cases-x/qradar/A%20B', headers: auth });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      error: 'Invalid alert status request',
      details: [
        { path: 'source', message: 'must be one of generic, splunk, elastic, sentinel' },
        { path: 'alertId', message: 'may contain only letters, digits and . _ : @ - (at most 128)' },
      ],
    });
  });

  test('refuses a malformed case index ID', async () => {
    const res = await app.inject({ method: 'GET', url: '/alerts/t1567%20cases/generic/A-1', headers: auth });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().details, [
      { path: 'caseIndexId', message: 'may contain only letters, digits and . _ : @ - (at most 200)' },
    ]);
  });
});
