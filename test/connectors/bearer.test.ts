/**
 * The shared vendor plumbing every bearer-token connector goes through: what a refused token means (401: renew once,
 * 403: no retry, the token dropped), the vendor's status and error code kept as fields, and one Entra app's token
 * cache shared by Graph and Defender.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { z } from 'zod';
import { bearerJson, type BearerTokens } from '../../src/connectors/bearer';
import { ConnectorAuthError } from '../../src/connectors/errors';
import { createHttpClient } from '../../src/connectors/http';
import { EntraApp, microsoftErrorCode } from '../../src/connectors/microsoft-entra/client';
import { GraphClient } from '../../src/connectors/microsoft-graph/client';
import { StandIn } from '../fakes/stand-in';

/** Tokens t1, t2, ... ; counts fetches and invalidations. */
function countingTokens(): BearerTokens & { fetched: number; invalidated: number } {
  let current: string | null = null;
  const tokens = {
    fetched: 0,
    invalidated: 0,
    get: () => {
      if (current === null) current = `t${++tokens.fetched}`;
      return Promise.resolve(current);
    },
    invalidate: () => {
      tokens.invalidated++;
      current = null;
    },
  };
  return tokens;
}

const ok = z.object({ ok: z.boolean() });

describe('bearer calls', () => {
  const api = new StandIn();
  before(() => api.start());
  after(() => api.stop());
  beforeEach(() => {
    api.requests.length = 0;
  });

  test('a 401 drops the token and sends the call once more with a fresh one', async () => {
    api.on('GET', '/thing', (req) =>
      req.headers.authorization === 'Bearer t2'
        ? { body: { ok: true } }
        : { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'expired' } } },
    );
    const tokens = countingTokens();
    const http = createHttpClient({ provider: 'vendor', baseURL: api.url });
    assert.deepEqual(await bearerJson(http, 'vendor', tokens, 'read thing', { method: 'GET', url: '/thing' }, ok), { ok: true });
    assert.deepEqual(
      api.calls('GET', '/thing').map((r) => r.headers.authorization),
      ['Bearer t1', 'Bearer t2'],
    );
  });

  test('a second 401 is an auth error with the status and the vendor code as fields, after two tries only', async () => {
    api.on('GET', '/thing', () => ({ status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'expired' } } }));
    const tokens = countingTokens();
    const http = createHttpClient({ provider: 'vendor', baseURL: api.url });
    await assert.rejects(
      bearerJson(http, 'vendor', tokens, 'read thing', { method: 'GET', url: '/thing' }, ok, { vendorCodeOf: microsoftErrorCode }),
      (err: Error) => {
        assert.ok(err instanceof ConnectorAuthError);
        assert.equal(err.status, 401);
        assert.equal(err.vendorCode, 'InvalidAuthenticationToken');
        return true;
      },
    );
    assert.equal(api.calls('GET', '/thing').length, 2);
    assert.equal(tokens.invalidated, 2);
  });

  test('a 403 is not retried; the token is dropped so a new grant shows in the next one; the permission is named', async () => {
    api.on('GET', '/thing', () => ({
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges' } },
    }));
    const tokens = countingTokens();
    const http = createHttpClient({ provider: 'vendor', baseURL: api.url });
    await assert.rejects(
      bearerJson(http, 'vendor', tokens, 'read thing', { method: 'GET', url: '/thing' }, ok, {
        permission: 'Thing.Read.All',
        vendorCodeOf: microsoftErrorCode,
      }),
      (err: Error) => {
        assert.ok(err instanceof ConnectorAuthError);
        assert.match(err.message, /^vendor: read thing: HTTP 403 .*needs permission: Thing\.Read\.All$/);
        assert.equal(err.status, 403);
        assert.equal(err.vendorCode, 'Authorization_RequestDenied');
        return true;
      },
    );
    assert.equal(api.calls('GET', '/thing').length, 1);
    assert.equal(tokens.invalidated, 1);
  });
});

describe('one Entra app registration', () => {
  const login = new StandIn();
  const graph = new StandIn();
  let issued = 0;
  before(() => Promise.all([login.start(), graph.start()]));
  after(() => Promise.all([login.stop(), graph.stop()]));

  test('one token per resource scope, shared by every client of the app', async () => {
    login.on('POST', '/tenant/oauth2/v2.0/token', (req) => ({
      body: { token_type: 'Bearer', expires_in: 3599, access_token: `${new URLSearchParams(req.body).get('scope')}#${++issued}` },
    }));
    graph.on('GET', '/v1.0/me', () => ({ body: { ok: true } }));
    const app = new EntraApp({ tokenUrl: `${login.url}/tenant/oauth2/v2.0/token`, clientId: 'app', clientSecret: 'secret' });
    const intune = new GraphClient(app, { graphUrl: graph.url });
    const sessions = new GraphClient(app, { graphUrl: graph.url });
    await intune.request('read me', { method: 'GET', url: '/v1.0/me' }, ok);
    await sessions.request('read me', { method: 'GET', url: '/v1.0/me' }, ok);
    const defender = app.tokensFor('https://api.securitycenter.microsoft.com/.default', 'microsoft-defender');
    assert.equal(await defender.get(), 'https://api.securitycenter.microsoft.com/.default#2');
    assert.deepEqual(
      graph.requests.map((r) => r.headers.authorization),
      [`Bearer ${graph.url}/.default#1`, `Bearer ${graph.url}/.default#1`],
    );
    assert.equal(login.requests.length, 2);
  });
});
