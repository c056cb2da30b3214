/**
 * Payload encryption: every Temporal payload (workflow input and result, activity arguments and results, query
 * answers, the run's summary and details) is encrypted with AES-256-GCM before it leaves the process, so the
 * history stored by the Temporal server holds no personal data (names, HR fields) in plain text.
 *
 * Key rotation: each encrypted payload names its key in the metadata (`encryption-key-id`). The first configured key
 * encrypts; every configured key decrypts. Rotate by putting the new key first and keeping the old ones until no
 * retained history uses them.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface PayloadKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A key as configured: base64 of 32 random bytes (`openssl rand -base64 32`). */
export function parseKey(id: string, base64: string): PayloadKey {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error(`payload key "${id}" must be 32 bytes in base64 (got ${key.length} bytes)`);
  return { id, key };
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: PayloadKey;

  constructor(keys: PayloadKey[]) {
    const [current] = keys;
    if (!current) throw new Error('payload encryption needs at least one key');
    this.current = current;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    if (this.byId.size !== keys.length) throw new Error('payload key IDs must be unique');
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  // async (not Promise.resolve(...)) so that a failure is a rejected promise, never a synchronous throw.
  // eslint-disable-next-line @typescript-eslint/require-await
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return {
        metadata: { encoding: enc.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: enc.encode(this.current.id) },
        data: Buffer.concat([iv, body, cipher.getAuthTag()]),
      };
    });
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || dec.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const keyId = idBytes ? dec.decode(idBytes) : '';
      const key = this.byId.get(keyId);
      // Fail closed: a payload we cannot decrypt is an error, never passed through as if it were plain.
      if (!key) throw new Error(`payload encrypted with unknown key "${keyId}"; configure it under temporal.payloadCodec`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

const keyFileSchema = z.strictObject({
  keys: z.array(z.strictObject({ id: z.string().min(1), key: z.string().min(1) })).min(1),
});

export interface PayloadCodecConfig {
  enabled: boolean;
  keys: { id: string; key: string }[];
  keyFile: string;
}

/** Reads the key ring file: `{"keys": [{"id", "key"}]}`, first key current. */
export function readKeyFile(file: string): PayloadKey[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`temporal.payloadCodec.keyFile: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = keyFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`temporal.payloadCodec.keyFile: ${file} is not a key ring ({"keys": [{"id", "key"}]})`);
  return parsed.data.keys.map((k) => parseKey(k.id, k.key));
}

/**
 * The embedded default: a key ring generated into the data folder on first start, readable by its owner only.
 * Returns true when a new key was written.
 */
export function ensureKeyFile(file: string): boolean {
  if (existsSync(file)) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  const ring = { keys: [{ id: `local-${new Date().toISOString().slice(0, 10)}`, key: randomBytes(32).toString('base64') }] };
  // 'wx': never overwrite a key another process generated meanwhile (that would orphan its encrypted payloads).
  try {
    writeFileSync(file, `${JSON.stringify(ring, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  chmodSync(file, 0o600);
  return true;
}

/** The configured keys: `keys` when given, otherwise the key file. Fails closed when encryption is on and no key is found. */
export function payloadKeys(config: PayloadCodecConfig): PayloadKey[] {
  if (config.keys.length) return config.keys.map((k) => parseKey(k.id, k.key));
  if (!existsSync(config.keyFile)) {
    throw new Error(
      `Payload encryption is on (temporal.payloadCodec.enabled) but no key is configured and ${config.keyFile} does not exist: ` +
        'with the embedded dev server `npm start` generates it on first start; otherwise run `npm run soar -- setup --generate-key` ' +
        'once and give every worker and HTTP process the same file, or set temporal.payloadCodec.keys',
    );
  }
  return readKeyFile(config.keyFile);
}

export function payloadCodecFor(config: PayloadCodecConfig): AesGcmPayloadCodec | null {
  return config.enabled ? new AesGcmPayloadCodec(payloadKeys(config)) : null;
}

/** The data converter for clients and workers: the default converter plus encryption when enabled. */
export function dataConverterFor(config: PayloadCodecConfig): DataConverter {
  const codec = payloadCodecFor(config);
  return codec ? { payloadCodecs: [codec] } : {};
}

/**
 * The generated key ring's keys, for log redaction: key material that is not in the configuration (configured keys
 * are `secret()` fields, redacted with the rest of the configuration's secrets).
 */
export function generatedPayloadKeySecrets(config: PayloadCodecConfig): string[] {
  if (config.keys.length > 0 || !existsSync(config.keyFile)) return [];
  try {
    return readKeyFile(config.keyFile).map((k) => k.key.toString('base64'));
  } catch {
    // An unreadable key file fails later, where the codec is built, with the reason.
    return [];
  }
}
