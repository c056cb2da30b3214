/** docs/configuration.md is the configuration reference: it lists every key the schema accepts, and nothing else. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { configSchema } from '../../src/config';
import { leafKeys } from '../../src/config/describe';
import { INGEST_SOURCES } from '../../src/ingest/config';

const DOC = path.join(__dirname, '../../docs/configuration.md');

/** The reference rows: `| \`key\` | type, default | meaning |`, up to the section on the previous release's keys. */
function documentedKeys(): Map<string, string> {
  const text = readFileSync(DOC, 'utf8');
  const reference = text.slice(0, text.indexOf('## Keys of the previous release'));
  const rows = new Map<string, string>();
  for (const line of reference.split('\n')) {
    const match = /^\| `([^`]+)` \| ([^|]*) \|/.exec(line);
    if (!match) continue;
    const [, key = '', type = ''] = match;
    const expanded = key.includes('<source>') ? INGEST_SOURCES.map((s) => key.replace('<source>', s)) : [key];
    for (const k of expanded) {
      assert.ok(!rows.has(k), `${k} is documented twice`);
      rows.set(k, type);
    }
  }
  return rows;
}

describe('configuration reference', () => {
  const documented = documentedKeys();
  const schema = leafKeys(configSchema);

  test('every key the schema accepts is documented', () => {
    assert.deepEqual(
      schema.map((k) => k.key).filter((key) => !documented.has(key)),
      [],
    );
  });

  test('no documented key is unknown to the schema', () => {
    const known = new Set(schema.map((k) => k.key));
    assert.deepEqual(
      [...documented.keys()].filter((key) => !known.has(key)),
      [],
    );
  });

  test('exactly the secret() fields are marked secret', () => {
    for (const { key, secret } of schema) {
      assert.equal(/\bsecret\b/.test(documented.get(key) ?? ''), secret, `${key} ${secret ? 'is' : 'is not'} a secret`);
    }
  });
});
