/**
 * The remote codec endpoint the Temporal Web UI calls, through `app.inject()`: the wire format, key rotation,
 * CORS for the UI's origin only, and the read API's bearer tokens.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { parseConfig } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { AesGcmPayloadCodec, parseKey } from '../../src/temporal/payload-codec';
import { TEST_PAYLOAD_KEY, rawTestConfig } from '../helpers/fixtures';

const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '500ms' }) });
const logger = createLogger({ level: 'silent' });
const UI = 'http://127.0.0.1:8233';
const OLD_KEY = { id: 'old-key', key: Buffer.alloc(32, 3).toString('base64') };

function app(extra: { apiTokens?: string[]; keys?: { id: string; key: string }[] } = {}) {
  const raw = rawTestConfig();
  const config = parseConfig(
    {
      ...raw,
      temporal: { ...(raw.temporal as object), uiUrl: UI, payloadCodec: { keys: extra.keys ?? [TEST_PAYLOAD_KEY, OLD_KEY] } },
      http: { host: '127.0.0.1', port: 0, apiTokens: extra.apiTokens ?? [] },
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
});
