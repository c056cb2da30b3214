/** Configuration of the enrichment sources: file by default, HTTP sources validated with errors naming the key. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ConfigError, parseConfig, sanitizeConfig, secretsOf } from '../../src/config';
import { ElasticsearchUploadBaselines } from '../../src/connectors/elasticsearch/upload-baselines';
import { FileChangeRecords, FileDeviceInventory, FileHrDirectory, FileUploadBaselines } from '../../src/connectors/local-files/client';
import { IntuneDeviceInventory } from '../../src/connectors/microsoft-graph/intune-devices';
import { OktaDirectory } from '../../src/connectors/okta/directory';
import { ServiceNowChangeRecords } from '../../src/connectors/servicenow/change-requests';
import { lookupPlacement, playbookInput } from '../../src/temporal/playbook-runs';
import { createEnrichmentSources } from '../../src/wiring';
import { benignAlert, rawTestConfig, TEST_PAYLOAD_KEY } from '../helpers/fixtures';

const vendors = {
  okta: { orgUrl: 'https://acme.okta.com', auth: { type: 'ssws', token: 'env:OKTA_API_TOKEN' } },
  servicenow: {
    instanceUrl: 'https://acme.service-now.com',
    auth: { type: 'basic', username: 'soar.integration', password: 'env:SNOW_PASSWORD' },
  },
  microsoftEntra: { tenantId: 'acme.onmicrosoft.com', clientId: '11111111-2222-3333-4444-555555555555', clientSecret: 'env:GRAPH_SECRET' },
  elasticsearch: { url: 'https://siem.acme.internal:9200', apiKey: 'env:ES_API_KEY' },
};
const enrichment = {
  hr: { source: 'okta', cloudStorageGroups: ['Cloud Storage Users'] },
  changes: { source: 'servicenow' },
  devices: { source: 'intune' },
  baselines: { source: 'elasticsearch', index: 'logs-proxy-*' },
};

const env = { OKTA_API_TOKEN: 'okta-secret-1', SNOW_PASSWORD: 'snow-secret-2', GRAPH_SECRET: 'graph-secret-3', ES_API_KEY: 'es-secret-4' };

function withSources(sources: Record<string, unknown>, vendorBlocks: Record<string, unknown> = vendors) {
  const raw = rawTestConfig();
  return { ...raw, vendors: vendorBlocks, enrichment: { ...(raw.enrichment as Record<string, unknown>), ...sources } };
}

/** The same sources in the previous release's keys (`connectors.<capability>: { type, ...connection }`). */
function withLegacySources(sources: Record<string, unknown>) {
  const raw = rawTestConfig();
  return { ...raw, connectors: sources };
}

describe('enrichment source configuration', () => {
  test("Elasticsearch's own time field, @timestamp, may be written out", () => {
    const config = parseConfig(withSources({ ...enrichment, baselines: { ...enrichment.baselines, timeField: '@timestamp' } }), env);
    assert.equal((config.enrichment.baselines as { timeField?: string }).timeField, '@timestamp');
  });

  test('every source defaults to its file', () => {
    const config = parseConfig(rawTestConfig(), {});
    assert.deepEqual(
      [config.enrichment.hr, config.enrichment.changes, config.enrichment.devices, config.enrichment.baselines],
      [{ source: 'file' }, { source: 'file' }, { source: 'file' }, { source: 'file' }],
    );
    const sources = createEnrichmentSources(config);
    assert.ok(sources.hr instanceof FileHrDirectory);
    assert.ok(sources.changes instanceof FileChangeRecords);
    assert.ok(sources.devices instanceof FileDeviceInventory);
    assert.ok(sources.baselines instanceof FileUploadBaselines);
  });

  test("a run's lookups: a file source's as a local activity, a vendor's as an ordinary activity, per source", () => {
    const files = parseConfig(rawTestConfig(), {});
    assert.deepEqual(playbookInput(files, benignAlert()).policy.lookups, { hr: 'local', changes: 'local', devices: 'local', baselines: 'local' });
    const mixed = parseConfig(withSources({ hr: enrichment.hr, baselines: enrichment.baselines }), env);
    assert.deepEqual(lookupPlacement(mixed), { hr: 'activity', changes: 'local', devices: 'local', baselines: 'activity' });
    assert.deepEqual(lookupPlacement(parseConfig(withSources(enrichment), env)), {
      hr: 'activity',
      changes: 'activity',
      devices: 'activity',
      baselines: 'activity',
    });
  });

  test('HTTP sources are parsed with their defaults, built, and their secrets redacted', () => {
    const config = parseConfig(withSources(enrichment), env);
    const { hr, devices, baselines, changes } = config.enrichment;
    assert.equal(hr.source === 'okta' && hr.profile.manager, 'managerId');
    assert.equal(config.vendors.okta?.auth.token, 'okta-secret-1');
    assert.equal(config.vendors.microsoftEntra?.authorityUrl, 'https://login.microsoftonline.com');
    assert.equal(config.vendors.okta?.requestTimeout, 15_000);
    assert.deepEqual(devices.source === 'intune' && devices.allowedComplianceStates, ['compliant']);
    assert.equal(baselines.source === 'elasticsearch' && baselines.bytesField, 'http.request.bytes');
    assert.equal(changes.source === 'servicenow' && changes.query, 'u_cloud_storage=true');

    const sources = createEnrichmentSources(config);
    assert.ok(sources.hr instanceof OktaDirectory);
    assert.ok(sources.changes instanceof ServiceNowChangeRecords);
    assert.ok(sources.devices instanceof IntuneDeviceInventory);
    assert.ok(sources.baselines instanceof ElasticsearchUploadBaselines);

    // Plus the test configuration's payload encryption key, also a secret.
    assert.deepEqual(
      secretsOf(config).sort(),
      ['es-secret-4', 'graph-secret-3', 'okta-secret-1', 'snow-secret-2', TEST_PAYLOAD_KEY.key].sort(),
    );
    const shown = JSON.stringify(sanitizeConfig(config));
    for (const secret of Object.values(env)) assert.ok(!shown.includes(secret), `${secret} leaked into the sanitized view`);
    assert.match(shown, /"orgUrl":"https:\/\/acme\.okta\.com"/);
  });

  test('a source whose vendor block is missing is refused, naming both keys', () => {
    assert.throws(
      () => parseConfig(withSources(enrichment, { okta: vendors.okta }), env),
      (err: ConfigError) => {
        assert.deepEqual(err.details, [
          'vendors.servicenow: required when enrichment.changes.source is servicenow',
          'vendors.microsoftEntra: required when enrichment.devices.source is intune',
          'vendors.elasticsearch: required when enrichment.baselines.source is elasticsearch',
        ]);
        return true;
      },
    );
  });

  test('errors about legacy source keys name the key as written', () => {
    assert.throws(
      () =>
        parseConfig(
          withLegacySources({
            hr: { type: 'okta', orgUrl: 'ftp://acme.okta.com', auth: { type: 'ssws', token: 'env:MISSING' }, cloudStorageGroups: [] },
            changes: { type: 'servicenow', instanceUrl: 'https://acme.service-now.com', auth: { type: 'digest' } },
            devices: { type: 'jamf' },
            baselines: { type: 'elasticsearch', url: 'https://es:9200', apiKey: 'k', index: 'logs proxy' },
          }),
          {},
        ),
      (err: ConfigError) => {
        assert.deepEqual(err.details.sort(), [
          'connectors.baselines.index: must be an index name or pattern',
          "connectors.changes.auth.type: Invalid discriminator value. Expected 'basic' | 'bearer'",
          "connectors.devices.type: Invalid discriminator value. Expected 'file' | 'intune'",
          'connectors.hr.auth.token: refers to environment variable MISSING, which is not set',
          'connectors.hr.cloudStorageGroups: name at least one Okta group whose members may use cloud storage',
          'connectors.hr.orgUrl: must be an http(s) URL',
        ]);
        return true;
      },
    );
  });
});
