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

export function createEnrichmentSources(config: Config): EnrichmentSources {
  const dataDir = path.resolve(config.connectors.dataDir);
  const { hr, changes, devices, baselines } = config.connectors;
  return {
    hr:
      hr.type === 'okta'
        ? new OktaDirectory({ ...hr, defaultTimezone: config.playbook.businessHours.defaultTimezone })
        : new FileHrDirectory(dataDir),
    changes: changes.type === 'servicenow' ? new ServiceNowChangeRecords(changes) : new FileChangeRecords(dataDir),
    devices: devices.type === 'intune' ? new IntuneDeviceInventory(devices) : new FileDeviceInventory(dataDir),
    baselines: baselines.type === 'elasticsearch' ? new ElasticsearchUploadBaselines(baselines) : new FileUploadBaselines(dataDir),
  };
}
