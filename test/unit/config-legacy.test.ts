/** The previous release's keys are read, translated into one block per vendor, and each one named in a deprecation. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { type ConfigError, parseConfig, readConfig } from '../../src/config';
import { rawTestConfig, tempDir } from '../helpers/fixtures';

const env = { OKTA: 'okta-token', SNOW: 'snow-pass', ENTRA: 'entra-secret', ES: 'es-key', CS: 'cs-secret', S1: 's1-token', DBX: 'dbx' };

/** One test configuration (its temporary folders) under both spellings. */
const base = rawTestConfig();

function legacyConfig(): Record<string, unknown> {
  const { enrichment, ...raw } = structuredClone(base);
  const entraApp = { tenantId: 'acme.onmicrosoft.com', clientId: 'app-1', clientSecret: 'env:ENTRA' };
  return {
    ...raw,
    connectors: {
      dataDir: (enrichment as { dataDir: string }).dataDir,
      hr: {
        type: 'okta',
        orgUrl: 'https://acme.okta.com',
        auth: { type: 'ssws', token: 'env:OKTA' },
        timeoutMs: 20_000,
        cloudStorageGroups: ['Cloud Storage Users'],
      },
      changes: {
        type: 'servicenow',
        instanceUrl: 'https://acme.service-now.com',
        auth: { type: 'basic', username: 'soar', password: 'env:SNOW' },
      },
      devices: { type: 'intune', ...entraApp, allowedComplianceStates: ['compliant', 'inGracePeriod'] },
      baselines: { type: 'elasticsearch', url: 'https://es.acme.internal:9200', apiKey: 'env:ES', index: 'logs-proxy-*' },
      containment: {
        requestTimeout: '20s',
        isolation: {
          provider: 'microsoft-defender',
          pollInterval: '2s',
          crowdstrike: { clientId: 'falcon', clientSecret: 'env:CS', memberCid: 'cid-1' },
          microsoftDefender: { ...entraApp, isolationType: 'Selective' },
          sentinelone: { baseUrl: 'https://acme.sentinelone.net', apiToken: 'env:S1' },
        },
        access: {
          providers: ['microsoft-graph', 'okta', 'dropbox'],
          microsoftGraph: { ...entraApp, userTemplate: '{user}@acme.com' },
          okta: { orgUrl: 'https://acme.okta.com', apiToken: 'env:OKTA', userTemplate: '{user}@acme.com', unassignAppId: '0oa1' },
          dropbox: { accessToken: 'env:DBX', userTemplate: '{user}@acme.com' },
        },
      },
    },
    audit: { forward: { type: 'elasticsearch', url: 'https://es.acme.internal:9200', apiKey: 'env:ES', index: 'audit' } },
  };
}

function currentConfig(): Record<string, unknown> {
  const raw = structuredClone(base);
  return {
    ...raw,
    vendors: {
      okta: { orgUrl: 'https://acme.okta.com', auth: { type: 'ssws', token: 'env:OKTA' }, requestTimeout: '20s' },
      microsoftEntra: { tenantId: 'acme.onmicrosoft.com', clientId: 'app-1', clientSecret: 'env:ENTRA', requestTimeout: '20s' },
      crowdstrike: { clientId: 'falcon', clientSecret: 'env:CS', memberCid: 'cid-1', requestTimeout: '20s' },
      sentinelone: { baseUrl: 'https://acme.sentinelone.net', apiToken: 'env:S1', requestTimeout: '20s' },
      dropbox: { accessToken: 'env:DBX', requestTimeout: '20s' },
      servicenow: { instanceUrl: 'https://acme.service-now.com', auth: { type: 'basic', username: 'soar', password: 'env:SNOW' } },
      elasticsearch: { url: 'https://es.acme.internal:9200', apiKey: 'env:ES' },
    },
    enrichment: {
      ...(raw.enrichment as object),
      hr: { source: 'okta', cloudStorageGroups: ['Cloud Storage Users'] },
      changes: { source: 'servicenow' },
      devices: { source: 'intune', allowedComplianceStates: ['compliant', 'inGracePeriod'] },
      baselines: { source: 'elasticsearch', index: 'logs-proxy-*' },
    },
    containment: {
      isolation: { provider: 'microsoft-defender', pollInterval: '2s', microsoftDefender: { isolationType: 'Selective' } },
      access: {
        providers: ['microsoft-graph', 'okta', 'dropbox'],
        microsoftGraph: { userTemplate: '{user}@acme.com' },
        okta: { userTemplate: '{user}@acme.com', unassignAppId: '0oa1' },
        dropbox: { userTemplate: '{user}@acme.com' },
      },
    },
    audit: { forward: { to: 'elasticsearch', index: 'audit' } },
  };
}

describe('legacy configuration keys', () => {
  test('a configuration in the previous keys parses to the same result as the current one', () => {
    const legacy = readConfig(legacyConfig(), env);
    const current = readConfig(currentConfig(), env);
    assert.deepEqual(legacy.config, current.config);
    assert.deepEqual(current.deprecations, []);
  });

  test('each legacy key read gives one deprecation naming its replacement', () => {
    const { deprecations } = readConfig(legacyConfig(), env);
    assert.deepEqual(
      deprecations.map((d) => [d.key, d.replacement]),
      [
        ['connectors.dataDir', 'enrichment.dataDir'],
        ['connectors.hr', 'enrichment.hr (source: okta) and vendors.okta'],
        ['connectors.changes', 'enrichment.changes (source: servicenow) and vendors.servicenow'],
        ['connectors.devices', 'enrichment.devices (source: intune) and vendors.microsoftEntra'],
        ['connectors.baselines', 'enrichment.baselines (source: elasticsearch) and vendors.elasticsearch'],
        ['connectors.containment.isolation.crowdstrike', 'vendors.crowdstrike'],
        ['connectors.containment.isolation.microsoftDefender', 'vendors.microsoftEntra and containment.isolation.microsoftDefender'],
        ['connectors.containment.isolation.sentinelone', 'vendors.sentinelone'],
        ['connectors.containment.access.microsoftGraph', 'vendors.microsoftEntra and containment.access.microsoftGraph'],
        ['connectors.containment.access.okta', 'vendors.okta and containment.access.okta'],
        ['connectors.containment.access.dropbox', 'vendors.dropbox and containment.access.dropbox'],
        ['connectors.containment.isolation', 'containment.isolation'],
        ['connectors.containment.access', 'containment.access'],
        ['connectors.containment.requestTimeout', 'vendors.<vendor>.requestTimeout'],
        ['audit.forward.type', 'audit.forward.to: elasticsearch and vendors.elasticsearch (url, apiKey)'],
      ],
    );
    for (const d of deprecations) {
      assert.ok(d.message.startsWith(`${d.key} is deprecated`), d.message);
      assert.ok(d.message.includes(d.replacement), d.message);
    }
  });

  test('a legacy key and its replacement set to different values are refused, naming both', () => {
    const raw = { ...legacyConfig(), vendors: { okta: { orgUrl: 'https://other.okta.com', auth: { type: 'ssws', token: 'env:OKTA' } } } };
    assert.throws(
      () => parseConfig(raw, env),
      (err: ConfigError) => {
        assert.deepEqual(err.details, [
          'connectors.hr.orgUrl (deprecated) and vendors.okta.orgUrl are both set, to different values; remove connectors.hr.orgUrl',
          'connectors.containment.access.okta.orgUrl (deprecated) and vendors.okta.orgUrl are both set, to different values; remove connectors.containment.access.okta.orgUrl',
        ]);
        return true;
      },
    );
  });

  test('two legacy copies of one vendor that disagree are refused, naming both', () => {
    const raw = legacyConfig();
    const access = (raw.connectors as { containment: { access: { microsoftGraph: Record<string, unknown> } } }).containment.access;
    access.microsoftGraph.clientId = 'app-2';
    assert.throws(
      () => parseConfig(raw, env),
      (err: ConfigError) => {
        assert.deepEqual(err.details, [
          'connectors.containment.access.microsoftGraph.clientId and connectors.devices.clientId both configure vendors.microsoftEntra.clientId (one block per vendor now) with different values; make them agree, or move to vendors.microsoftEntra.clientId',
        ]);
        return true;
      },
    );
  });

  test('timeouts in milliseconds and as durations are one setting', () => {
    const raw = legacyConfig();
    const connectors = raw.connectors as { hr: Record<string, unknown>; containment: Record<string, unknown> };
    connectors.hr.timeoutMs = 20_000;
    connectors.containment.requestTimeout = '20s';
    assert.equal(parseConfig(raw, env).vendors.okta?.requestTimeout, 20_000);
  });

  test('a legacy key that is not known is refused, naming it', () => {
    assert.throws(
      () => parseConfig({ ...rawTestConfig(), connectors: { hr: { type: 'file' }, hrr: {} } }, {}),
      (err: ConfigError) => {
        assert.deepEqual(err.details, ['connectors: Unrecognized key: "hrr"']);
        return true;
      },
    );
  });

  test('the CLI says each deprecation once, naming the replacement', () => {
    const dir = tempDir('soar-legacy-');
    const file = path.join(dir, 'soar.yaml');
    writeFileSync(file, stringify({ ...rawTestConfig(), enrichment: undefined, connectors: { dataDir: 'config/data' } }));
    const cli = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../src/cli.ts'), 'audit', 'verify'], {
      env: { ...process.env, SOAR_CONFIG: file },
      encoding: 'utf8',
    });
    assert.equal(cli.status, 4, cli.stderr);
    const warnings = cli.stderr.split('\n').filter((l) => l.startsWith('Warning:'));
    assert.deepEqual(warnings, [
      'Warning: connectors.dataDir is deprecated and is read only until the next release: use enrichment.dataDir instead',
    ]);
  });
});
