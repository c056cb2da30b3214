/** Configuration of the enrichment sources: file by default, HTTP sources validated with errors naming the key. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ConfigError, parseConfig, sanitizeConfig, secretsOf } from '../../src/config';
import { ElasticsearchUploadBaselines } from '../../src/connectors/elasticsearch/upload-baselines';
import { FileChangeRecords, FileDeviceInventory, FileHrDirectory, FileUploadBaselines } from '../../src/connectors/local-files/client';
import { IntuneDeviceInventory } from '../../src/connectors/microsoft-graph/intune-devices';
import { OktaDirectory } from '../../src/connectors/okta/directory';
import { ServiceNowChangeRecords } from '../../src/connectors/servicenow/change-requests';
import { createEnrichmentSources } from '../../src/wiring';
import { rawTestConfig, TEST_PAYLOAD_KEY } from '../helpers/fixtures';

const httpSources = {
  hr: {
    type: 'okta',
    orgUrl: 'https://acme.okta.com',
    auth: { type: 'ssws', token: 'env:OKTA_API_TOKEN' },
    cloudStorageGroups: ['Cloud Storage Users'],
  },
  changes: {
    type: 'servicenow',
    instanceUrl: 'https://acme.service-now.com',
    auth: { type: 'basic', username: 'soar.integration', password: 'env:SNOW_PASSWORD' },
  },
  devices: {
    type: 'intune',
    tenantId: 'acme.onmicrosoft.com',
    clientId: '11111111-2222-3333-4444-555555555555',
    clientSecret: 'file:/nonexistent-is-replaced-below',
  },
  baselines: { type: 'elasticsearch', url: 'https://siem.acme.internal:9200', apiKey: 'env:ES_API_KEY', index: 'logs-proxy-*' },
};

const env = { OKTA_API_TOKEN: 'okta-secret-1', SNOW_PASSWORD: 'snow-secret-2', GRAPH_SECRET: 'graph-secret-3', ES_API_KEY: 'es-secret-4' };

function withSources(sources: Record<string, unknown>) {
  const raw = rawTestConfig();
  return { ...raw, connectors: { ...(raw.connectors as Record<string, unknown>), ...sources } };
}

describe('enrichment source configuration', () => {
  test('every source defaults to its file', () => {
    const config = parseConfig(rawTestConfig(), {});
    assert.deepEqual(
      [config.connectors.hr, config.connectors.changes, config.connectors.devices, config.connectors.baselines],
      [{ type: 'file' }, { type: 'file' }, { type: 'file' }, { type: 'file' }],
    );
    const sources = createEnrichmentSources(config);
    assert.ok(sources.hr instanceof FileHrDirectory);
    assert.ok(sources.changes instanceof FileChangeRecords);
    assert.ok(sources.devices instanceof FileDeviceInventory);
    assert.ok(sources.baselines instanceof FileUploadBaselines);
  });

  test('HTTP sources are parsed with their defaults, built, and their secrets redacted', () => {
    const config = parseConfig(withSources({ ...httpSources, devices: { ...httpSources.devices, clientSecret: 'env:GRAPH_SECRET' } }), env);
    const { hr, devices, baselines, changes } = config.connectors;
    assert.equal(hr.type === 'okta' && hr.profile.manager, 'managerId');
    assert.equal(hr.type === 'okta' && hr.auth.token, 'okta-secret-1');
    assert.equal(devices.type === 'intune' && devices.authorityUrl, 'https://login.microsoftonline.com');
    assert.deepEqual(devices.type === 'intune' && devices.allowedComplianceStates, ['compliant']);
    assert.equal(baselines.type === 'elasticsearch' && baselines.bytesField, 'http.request.bytes');
    assert.equal(changes.type === 'servicenow' && changes.query, 'u_cloud_storage=true');

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

  test('errors name the key of each wrong source setting', () => {
    assert.throws(
      () =>
        parseConfig(
          withSources({
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
