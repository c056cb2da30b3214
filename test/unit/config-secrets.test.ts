/** Credentials are declared once, with secret(); the redaction list and the sanitized view are derived from that. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { configSchema, ConfigError, parseConfig, readConfig, sanitizeConfig, secretsOf } from '../../src/config';
import { leafKeys } from '../../src/config/describe';
import { redactSecrets, REDACTED, secret, secretPathsIn, secretValues, unresolvedSecret, withSecretEnv } from '../../src/config/secret';
import { rawTestConfig } from '../helpers/fixtures';

const WHSEC = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const PAYLOAD_KEY = Buffer.alloc(32, 9).toString('base64');

/** Every credential the configuration can hold, each from its own environment variable; every value carries MARK. */
const MARK = 'zz-secret-';
const env: Record<string, string> = {};
let counter = 0;
function ref(value?: string): string {
  const name = `SECRET_${++counter}`;
  env[name] = value ?? `${MARK}${counter}-end`;
  return `env:${name}`;
}

function fullConfig(servicenowAuth: 'basic' | 'bearer') {
  const raw = rawTestConfig();
  return {
    ...raw,
    temporal: { ...(raw.temporal as object), apiKey: ref(), payloadCodec: { keys: [{ id: 'k1', key: ref(PAYLOAD_KEY) }] } },
    http: { host: '127.0.0.1', webhookTokens: [ref()], apiTokens: [ref(), ref()], metricsTokens: [ref()] },
    ingest: {
      sources: {
        splunk: { auth: { type: 'query-token', tokens: [ref()] } },
        elastic: { auth: { type: 'bearer', tokens: [ref()] } },
        sentinel: { auth: { type: 'standard-webhooks', secrets: [ref(WHSEC)] } },
      },
    },
    vendors: {
      okta: { orgUrl: 'https://acme.okta.com', auth: { type: 'ssws', token: ref() } },
      microsoftEntra: { tenantId: 'acme.onmicrosoft.com', clientId: 'app', clientSecret: ref() },
      crowdstrike: { clientId: 'falcon', clientSecret: ref() },
      sentinelone: { baseUrl: 'https://acme.sentinelone.net', apiToken: ref() },
      googleWorkspace: { serviceAccountKey: ref(), subject: 'admin@acme.com' },
      dropbox: { accessToken: ref() },
      servicenow: {
        instanceUrl: 'https://acme.service-now.com',
        auth: servicenowAuth === 'basic' ? { type: 'basic', username: 'soar', password: ref() } : { type: 'bearer', token: ref() },
      },
      elasticsearch: { url: 'https://es.acme.internal:9200', apiKey: ref() },
      splunk: { hecUrl: 'https://splunk.acme.internal:8088', hecToken: ref() },
    },
    enrichment: {
      ...(raw.enrichment as object),
      hr: { source: 'okta', cloudStorageGroups: ['Cloud Storage Users'] },
      changes: { source: 'servicenow' },
      devices: { source: 'intune' },
      baselines: { source: 'elasticsearch', index: 'logs-proxy-*' },
    },
    containment: {
      isolation: { provider: 'sentinelone' },
      access: { providers: ['microsoft-graph', 'okta', 'google-workspace', 'dropbox'] },
    },
    slack: {
      botToken: ref(),
      signingSecret: ref(),
      teamId: 'T0001',
      appId: 'A0KRD7HC3',
      channel: 'C024BE91L',
      approvers: { users: ['U012AB3CD'] },
    },
    audit: { forward: { to: 'splunk' }, keys: [{ id: 'audit-1', key: ref(`${MARK}audit-key-${'x'.repeat(32)}`) }] },
  };
}

/** `http.apiTokens.1` -> `http.apiTokens`, `temporal.payloadCodec.keys.0.key` -> `temporal.payloadCodec.keys[].key`. */
const asSchemaKey = (path: string) =>
  path.replace(/\.\d+(?=\.|$)/g, (m, offset: number, all: string) => (offset + m.length === all.length ? '' : '[]'));

describe('secrets declared once', () => {
  const configs = [parseConfig(fullConfig('basic'), env), parseConfig(fullConfig('bearer'), env)];

  test('every secret() field of the schema is present in the full configurations with every vendor', () => {
    // The four SIEM sources share one auth schema; the configurations above use each auth type on some source.
    const anySource = (key: string) => key.replace(/^ingest\.sources\.[a-z]+\./, 'ingest.sources.*.');
    const declared = new Set(
      leafKeys(configSchema)
        .filter((k) => k.secret)
        .map((k) => anySource(k.key)),
    );
    const present = new Set(configs.flatMap((c) => secretPathsIn(configSchema, c).map((p) => anySource(asSchemaKey(p)))));
    assert.deepEqual(
      [...declared].filter((key) => !present.has(key)),
      [],
      'the test configurations must set every secret the schema declares',
    );
    assert.ok(declared.size >= 15, `only ${declared.size} secret fields found`);
  });

  test('every secret is in the redaction list and masked in the sanitized view', () => {
    for (const config of configs) {
      const redact = secretsOf(config);
      const shown = JSON.stringify(sanitizeConfig(config));
      for (const path of secretPathsIn(configSchema, config)) {
        const value = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
        assert.ok(typeof value === 'string' && redact.includes(value), `${path} is not in the redaction list`);
        const masked = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], sanitizeConfig(config));
        assert.equal(masked, REDACTED, `${path} is not masked`);
      }
      // Independently of the schema walk: no value that came from the environment survives in the sanitized view.
      for (const value of Object.values(env)) {
        if (!JSON.stringify(config).includes(JSON.stringify(value).slice(1, -1))) continue;
        assert.ok(redact.includes(value), `${value} is not redacted`);
        assert.ok(!shown.includes(value), `${value} leaks into the sanitized view`);
      }
    }
    assert.ok(secretsOf(configs[0]!).includes(WHSEC.slice(6)), 'the signing key without its whsec_ prefix is redacted too');
  });

  test('the sanitized view keeps everything that is not a secret', () => {
    const [config] = configs;
    const shown = sanitizeConfig(config!);
    assert.equal(shown.vendors.okta?.orgUrl, 'https://acme.okta.com');
    assert.equal(shown.vendors.okta?.auth.type, 'ssws');
    assert.equal(shown.temporal.payloadCodec.keys[0]?.id, 'k1');
    assert.equal(shown.http.apiTokens.length, 2);
    assert.equal(config!.vendors.okta?.auth.token.startsWith(MARK), true, 'the parsed configuration itself is untouched');
  });

  test('a new secret field needs no second list: declaring it with secret() is enough', () => {
    const schema = z.strictObject({
      vendors: z.strictObject({
        newVendor: z.strictObject({ url: z.string(), token: secret(), keys: z.array(z.strictObject({ id: z.string(), key: secret() })) }),
      }),
    });
    const parsed = withSecretEnv({ NEW_TOKEN: 'new-token-value' }, () =>
      schema.parse({ vendors: { newVendor: { url: 'https://x', token: 'env:NEW_TOKEN', keys: [{ id: 'a', key: 'literal-key' }] } } }),
    );
    assert.equal(parsed.vendors.newVendor.token, 'new-token-value');
    assert.deepEqual(secretValues(schema, parsed).sort(), ['literal-key', 'new-token-value']);
    assert.deepEqual(redactSecrets(schema, parsed), {
      vendors: { newVendor: { url: 'https://x', token: REDACTED, keys: [{ id: 'a', key: REDACTED }] } },
    });
    assert.deepEqual(
      leafKeys(schema).filter((k) => k.secret),
      [
        { key: 'vendors.newVendor.token', secret: true },
        { key: 'vendors.newVendor.keys[].key', secret: true },
      ],
    );
  });

  test('an env: reference outside a parse resolves against nothing and is refused, naming the variable', () => {
    const result = z.strictObject({ token: secret() }).safeParse({ token: 'env:HOME' });
    assert.equal(result.success, false);
    assert.equal(result.error?.issues[0]?.message, 'refers to environment variable HOME, which is not set');
  });

  test('a command resolves only the secrets it uses: the others need no environment variable', () => {
    const raw = fullConfig('basic');
    const apiKeyVar = (raw.temporal as { apiKey: string }).apiKey.slice(4);
    const keyVar = (raw.temporal as { payloadCodec: { keys: { key: string }[] } }).payloadCodec.keys[0]?.key.slice(4) ?? '';
    const onlyTemporal = { [apiKeyVar]: env[apiKeyVar], [keyVar]: env[keyVar] };

    assert.throws(
      () => readConfig(raw, onlyTemporal),
      (err: Error) => err instanceof ConfigError && /webhookTokens\.0: refers to environment variable/.test(err.message),
    );
    const { config } = readConfig(raw, onlyTemporal, 'configuration', { secrets: ['temporal'] });
    assert.equal(config.temporal.apiKey, env[apiKeyVar]);
    assert.equal(config.temporal.payloadCodec.keys[0]?.key, PAYLOAD_KEY);
    assert.equal(config.http.webhookTokens[0], unresolvedSecret('http.webhookTokens.0'));
    assert.equal(config.vendors.splunk?.hecToken, '[not resolved: vendors.splunk.hecToken is not used by this command]');
    assert.equal(config.slack?.signingSecret, unresolvedSecret('slack.signingSecret'));

    // A secret in scope is still required, with the usual message.
    assert.throws(
      () => readConfig(raw, { [keyVar]: PAYLOAD_KEY }, 'configuration', { secrets: ['temporal'] }),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message.includes(`temporal.apiKey: refers to environment variable ${apiKeyVar}, which is not set`),
    );
    // And the rest of the configuration is still checked.
    assert.throws(
      () => readConfig({ ...raw, http: { ...(raw.http as object), port: -1 } }, onlyTemporal, 'configuration', { secrets: ['temporal'] }),
      (err: Error) => err instanceof ConfigError && /http\.port/.test(err.message),
    );
  });
});
