/** AES-GCM payload encryption: round trip, key rotation, tampering, and the embedded default's key file. */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ensureKeyFile, parseKey, payloadKeys } from '../../src/temporal/payload-codec';
import { tempDir } from '../helpers/fixtures';

const k1 = parseKey('k1', Buffer.alloc(32, 1).toString('base64'));
const k2 = parseKey('k2', Buffer.alloc(32, 2).toString('base64'));
const VALUE = { displayName: 'Jane Doe', department: 'Finance' };
const plain = defaultPayloadConverter.toPayload(VALUE);
const values = (payloads: Parameters<typeof defaultPayloadConverter.fromPayload>[0][]) =>
  payloads.map((p) => defaultPayloadConverter.fromPayload(p));

describe('payload codec', () => {
  test('encrypts with the current key, names it, and decrypts back to the same payload', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const [encrypted] = await codec.encode([plain]);
    assert.equal(Buffer.from(encrypted?.metadata?.['encryption-key-id'] ?? []).toString(), 'k1');
    assert.ok(
      !Buffer.from(encrypted?.data ?? [])
        .toString('latin1')
        .includes('Jane Doe'),
    );
    assert.deepEqual(values(await codec.decode([encrypted!])), [VALUE]);
    const [again] = await codec.encode([plain]);
    assert.notDeepEqual(again?.data, encrypted?.data, 'a fresh IV each time');
  });

  test('after rotation encrypts with the new key and still decrypts the old one', async () => {
    const [old] = await new AesGcmPayloadCodec([k1]).encode([plain]);
    const rotated = new AesGcmPayloadCodec([k2, k1]);
    assert.deepEqual(values(await rotated.decode([old!])), [VALUE]);
    const [fresh] = await rotated.encode([plain]);
    assert.equal(Buffer.from(fresh?.metadata?.['encryption-key-id'] ?? []).toString(), 'k2');
    await assert.rejects(new AesGcmPayloadCodec([k1]).decode([fresh!]), /payload encrypted with unknown key "k2"/);
  });

  test('refuses a tampered ciphertext', async () => {
    const [encrypted] = await new AesGcmPayloadCodec([k1]).encode([plain]);
    const data = Buffer.from(encrypted!.data!);
    data[20] = (data[20] ?? 0) ^ 1;
    await assert.rejects(new AesGcmPayloadCodec([k1]).decode([{ ...encrypted, data }]), /Unsupported state or unable to authenticate data/);
  });

  test('passes unencrypted payloads through on decode (histories written before encryption was on)', async () => {
    assert.deepEqual(await new AesGcmPayloadCodec([k1]).decode([plain]), [plain]);
  });

  test('rejects a key that is not 32 bytes', () => {
    assert.throws(
      () => parseKey('short', Buffer.alloc(16).toString('base64')),
      /payload key "short" must be 32 bytes in base64 \(got 16 bytes\)/,
    );
  });

  test('the embedded default generates an owner-only key file once and reads it back', () => {
    const file = path.join(tempDir('soar-key-'), 'sub', 'payload-codec.keys');
    assert.throws(
      () => payloadKeys({ enabled: true, keys: [], keyFile: file }),
      /no key is configured and .* does not exist: with the embedded dev server `npm start` generates it on first start; otherwise run `npm run soar -- setup --generate-key` once/,
    );
    assert.equal(ensureKeyFile(file), true);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const first = readFileSync(file, 'utf8');
    assert.equal(ensureKeyFile(file), false, 'never overwritten');
    assert.equal(readFileSync(file, 'utf8'), first);
    const [key] = payloadKeys({ enabled: true, keys: [], keyFile: file });
    assert.equal(key?.key.length, 32);
  });
});
