/** Builds the enrichment sources the configuration selects: the file-backed default or a real HTTP source each. */
import path from 'node:path';
import type { Config } from '../config';
import type { ChangeRecords, DeviceInventory, HrDirectory, UploadBaselines } from '../contracts/ports';
import { ElasticsearchUploadBaselines } from './elasticsearch/upload-baselines';
import { FileChangeRecords, FileDeviceInventory, FileHrDirectory, FileUploadBaselines } from './local-files/client';
import { IntuneDeviceInventory } from './microsoft-graph/intune-devices';
import { OktaDirectory } from './okta/directory';
import { ServiceNowChangeRecords } from './servicenow/change-requests';

export interface EnrichmentSources {
  hr: HrDirectory;
  changes: ChangeRecords;
  devices: DeviceInventory;
  baselines: UploadBaselines;
}

function missing(key: string): never {
  // The config schema already refuses this; a programming error if reached.
  throw new Error(`vendors.${key} is not configured`);
}

export function createEnrichmentSources(config: Config): EnrichmentSources {
  const { dataDir: dir, hr, changes, devices, baselines } = config.enrichment;
  const dataDir = path.resolve(dir);
  const { vendors } = config;
  const okta = () => {
    const { requestTimeout, ...v } = vendors.okta ?? missing('okta');
    return { ...v, timeoutMs: requestTimeout };
  };
  const servicenow = () => {
    const { requestTimeout, ...v } = vendors.servicenow ?? missing('servicenow');
    return { ...v, timeoutMs: requestTimeout };
  };
  const entra = () => {
    const v = vendors.microsoftEntra ?? missing('microsoftEntra');
    return {
      tenantId: v.tenantId,
      clientId: v.clientId,
      clientSecret: v.clientSecret,
      authorityUrl: v.authorityUrl,
      graphUrl: v.graphUrl,
      timeoutMs: v.requestTimeout,
    };
  };
  const elasticsearch = () => {
    const v = vendors.elasticsearch ?? missing('elasticsearch');
    return { url: v.url, apiKey: v.apiKey ?? missing('elasticsearch.apiKey'), timeoutMs: v.requestTimeout };
  };
  return {
    hr:
      hr.source === 'okta'
        ? new OktaDirectory({ ...okta(), ...hr, defaultTimezone: config.playbook.businessHours.defaultTimezone })
        : new FileHrDirectory(dataDir),
    changes:
      changes.source === 'servicenow' ? new ServiceNowChangeRecords({ ...servicenow(), ...changes }) : new FileChangeRecords(dataDir),
    devices: devices.source === 'intune' ? new IntuneDeviceInventory({ ...entra(), ...devices }) : new FileDeviceInventory(dataDir),
    baselines:
      baselines.source === 'elasticsearch'
        ? new ElasticsearchUploadBaselines({ ...elasticsearch(), ...baselines })
        : new FileUploadBaselines(dataDir),
  };
}
