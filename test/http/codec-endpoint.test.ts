/**
 * The remote codec endpoint the Temporal Web UI calls, through `app.inject()`: the wire format, key rotation,
 * CORS for the UI's origin only, and the read API's bearer tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { parseConfig } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { AesGcmPayloadCodec, parseKey } from '../../src/temporal/payload-codec';
import { OidcIssuer } from '../fakes/oidc-issuer';
import { TEST_PAYLOAD_KEY, rawTestConfig } from '../helpers/fixtures';

const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '500ms' }) });
const logger = createLogger({ level: 'silent' });
const UI = 'http://127.0.0.1:8233';
const OLD_KEY = { id: 'old-key', key: Buffer.alloc(32, 3).toString('base64') };

function app(extra: { apiTokens?: string[]; keys?: { id: string; key: string }[]; codec?: Record<string, unknown> } = {}) {
  const raw = rawTestConfig();
  const config = parseConfig(
    {
      ...raw,
      temporal: { ...(raw.temporal as object), uiUrl: UI, payloadCodec: { keys: extra.keys ?? [TEST_PAYLOAD_KEY, OLD_KEY] } },
      http: { host: '127.0.0.1', port: 0, apiTokens: extra.apiTokens ?? [], ...(extra.codec ? { codec: extra.codec } : {}) },
    },
    {},
  );
  return buildApp({ config, client: unreachable, logger });
}

const toWire = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

describe('codec endpoint', () => {
  test('encodes with the current key and decodes payloads encrypted with an older key', async () => {
    const plain = defaultPayloadConverter.toPayload({ displayName: 'Jane Doe', department: 'Finance' });
    const server = app();
    const encoded = await server.inject({ method: 'POST', url: '/codec/encode', payload: { payloads: [toWire(plain)] } });
    assert.equal(encoded.statusCode, 200);
    const [wire] = encoded.json<{ payloads: { metadata: Record<string, string>; data: string }[] }>().payloads;
    assert.equal(Buffer.from(wire?.metadata.encoding ?? '', 'base64').toString(), 'binary/encrypted');
    assert.equal(Buffer.from(wire?.metadata['encryption-key-id'] ?? '', 'base64').toString(), TEST_PAYLOAD_KEY.id);
    assert.ok(
      !Buffer.from(wire?.data ?? '', 'base64')
        .toString('latin1')
        .includes('Jane Doe'),
    );

    const byOldKey = await new AesGcmPayloadCodec([parseKey(OLD_KEY.id, OLD_KEY.key)]).encode([plain]);
    const decoded = await server.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { 'x-namespace': 'default' },
      payload: { payloads: [wire, ...byOldKey.map(toWire)] },
    });
    assert.equal(decoded.statusCode, 200);
    const out = decoded.json<{ payloads: unknown[] }>().payloads;
    assert.deepEqual(out, [toWire(plain), toWire(plain)]);
  });

  test('refuses a payload whose key is not configured, naming the key', async () => {
    const foreign = await new AesGcmPayloadCodec([parseKey('retired', Buffer.alloc(32, 1).toString('base64'))]).encode([
      defaultPayloadConverter.toPayload('x'),
    ]);
    const res = await app().inject({ method: 'POST', url: '/codec/decode', payload: { payloads: foreign.map(toWire) } });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      error: 'Cannot decode the payloads',
      details: [{ path: 'payloads', message: 'payload encrypted with unknown key "retired"; configure it under temporal.payloadCodec' }],
    });
  });

  test('answers the Web UI origin’s preflight and refuses other origins', async () => {
    const server = app();
    const preflight = await server.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], UI);
    assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
    assert.match(String(preflight.headers['access-control-allow-headers']), /x-namespace/);

    const twin = await server.inject({ method: 'OPTIONS', url: '/codec/encode', headers: { origin: 'http://localhost:8233' } });
    assert.equal(twin.headers['access-control-allow-origin'], 'http://localhost:8233', 'the loopback twin of the UI origin');

    const evil = await server.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { origin: 'http://evil.example' },
      payload: { payloads: [] },
    });
    assert.equal(evil.statusCode, 403);
    assert.deepEqual(evil.json(), { error: 'Origin not allowed', details: [] });
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
  });

  test('requires an API token when tokens are configured', async () => {
    const server = app({ apiTokens: ['codec-reader-token'] });
    const anonymous = await server.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [] } });
    assert.equal(anonymous.statusCode, 401);
    assert.deepEqual(anonymous.json(), { error: 'Unauthorized', details: [] });
    const ok = await server.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { authorization: 'Bearer codec-reader-token' },
      payload: { payloads: [] },
    });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { payloads: [] });
  });

  test('rejects a body that is not a list of payloads', async () => {
    const res = await app().inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [{ data: 'not base64!' }] } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<{ error: string }>().error, 'Invalid payloads');
  });

  test('accepts the {} the temporal CLI sends for an empty payload list', async () => {
    const res = await app().inject({ method: 'POST', url: '/codec/decode', payload: {} });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { payloads: [] });
  });

  describe('the embedded Web UI, which sends no credential, with http.apiTokens set', () => {
    const uiRequest = (headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') => ({
      method: 'POST' as const,
      url: '/codec/decode',
      remoteAddress,
      headers: { origin: UI, 'x-namespace': 'default', ...headers },
      payload: { payloads: [] },
    });
    const withTokens = (loopbackUi?: boolean) =>
      app({ apiTokens: ['codec-reader-token'], ...(loopbackUi === undefined ? {} : { codec: { loopbackUi } }) });

    test('decodes for the UI’s loopback origin over a loopback connection', async () => {
      const res = await withTokens(true).inject(uiRequest());
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['access-control-allow-origin'], UI);
      assert.equal((await withTokens(true).inject(uiRequest({}, '::ffff:127.0.0.1'))).statusCode, 200);
    });

    test('refuses a token-less request that does not prove it is the embedded UI', async () => {
      const server = withTokens(true);
      const refusals = {
        'a remote peer': uiRequest({}, '10.1.2.3'),
        'a request through a proxy': uiRequest({ 'x-forwarded-for': '203.0.113.9' }),
        'a Forwarded header': uiRequest({ forwarded: 'for=203.0.113.9' }),
        'no Origin (not a browser page)': { ...uiRequest(), headers: { 'x-namespace': 'default' } },
        'another namespace': uiRequest({ 'x-namespace': 'finance' }),
      };
      for (const [what, request] of Object.entries(refusals)) {
        const res = await server.inject(request);
        assert.equal(res.statusCode, 401, what);
        assert.deepEqual(res.json(), { error: 'Unauthorized', details: [] }, what);
      }
      // Off (the default without the embedded dev server): the UI's request needs a credential like any other.
      assert.equal((await withTokens().inject(uiRequest())).statusCode, 401);
      assert.equal((await withTokens(false).inject(uiRequest())).statusCode, 401);
    });
  });

  describe('the Web UI user’s OIDC access token', () => {
    const issuer = new OidcIssuer();
    before(() => issuer.start());
    after(() => issuer.stop());
    const oidcApp = () =>
      app({
        apiTokens: ['codec-reader-token'],
        codec: { oidc: { issuer: issuer.issuer, audience: 'temporal-ui', requiredClaim: { name: 'groups', value: 'soc-ir' } } },
      });
    const decode = (server: ReturnType<typeof app>, token: string) =>
      server.inject({ method: 'POST', url: '/codec/decode', headers: { authorization: `Bearer ${token}` }, payload: { payloads: [] } });

    test('decodes for a member of the required group, the keys found through the issuer’s discovery document', async () => {
      const server = oidcApp();
      const res = await decode(server, await issuer.sign({ claims: { sub: 'alice@example.com', groups: ['staff', 'soc-ir'] } }));
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { payloads: [] });
      assert.equal(issuer.calls('GET', '/.well-known/openid-configuration').length, 1);
      assert.equal(issuer.calls('GET', '/jwks.json').length, 1);
      // The API tokens still work next to it.
      assert.equal((await decode(server, 'codec-reader-token')).statusCode, 200);
    });

    test('refuses a token from another issuer, expired, signed with a key not in the JWKS, or for another audience', async () => {
      const server = oidcApp();
      const member = { sub: 'mallory@example.com', groups: ['soc-ir'] };
      const tokens = {
        'another issuer': await issuer.sign({ claims: member, issuer: 'https://login.evil.example' }),
        expired: await issuer.sign({ claims: member, expiresIn: -120 }),
        'a key not in the JWKS': await issuer.sign({ claims: member, key: await OidcIssuer.foreignKey() }),
        'another audience': await issuer.sign({ claims: member, audience: 'some-other-app' }),
        'not a JWT': 'opaque-access-token',
      };
      for (const [what, token] of Object.entries(tokens)) {
        const res = await decode(server, token);
        assert.equal(res.statusCode, 401, what);
        assert.deepEqual(res.json(), { error: 'Unauthorized', details: [] }, what);
      }
    });

    test('refuses a valid token of someone outside the group with 403', async () => {
      const server = oidcApp();
      for (const claims of [{ groups: ['staff'] }, { groups: 'soc-ir-readonly' }, {}]) {
        const res = await decode(server, await issuer.sign({ claims: { sub: 'bob@example.com', ...claims } }));
        assert.equal(res.statusCode, 403, JSON.stringify(claims));
        assert.deepEqual(res.json(), { error: 'Forbidden', details: [] });
      }
      assert.equal((await decode(server, await issuer.sign({ claims: { groups: 'soc-ir' } }))).statusCode, 200, 'a string claim');
    });
  });
});
