/**
 * Device authorization from Microsoft Intune via Graph: `GET /v1.0/deviceManagement/managedDevices` filtered by
 * `deviceName`. Needs the application permission DeviceManagementManagedDevices.Read.All (admin consent).
 *
 * A device is managed when Intune manages it through an MDM or agent channel (managementAgent other than `eas`,
 * Exchange ActiveSync only, and `unknown`); it may use cloud storage when its complianceState is one of the allowed
 * states (default: compliant) and, by default, it is corporate-owned. Device names are not unique in Intune (a
 * re-enrolled laptop leaves a stale record): the most recently synced record wins.
 */
import { z } from 'zod';
import type { DeviceFinding } from '../../contracts/playbook';
import type { DeviceInventory } from '../../contracts/ports';
import { ConnectorInvalidResponseError } from '../errors';
import { GRAPH_PROVIDER, type GraphClient } from './client';

export const managedDeviceSchema = z.object({
  id: z.string().min(1),
  deviceName: z.string().nullable(),
  complianceState: z.string(),
  managementAgent: z.string(),
  managedDeviceOwnerType: z.string().nullish(),
  userPrincipalName: z.string().nullish(),
  lastSyncDateTime: z.string().nullish(),
  operatingSystem: z.string().nullish(),
});

export type ManagedDevice = z.infer<typeof managedDeviceSchema>;

export interface IntuneDeviceOptions {
  allowedComplianceStates: string[];
  requireCorporateOwned: boolean;
}

const SELECT = [
  'id',
  'deviceName',
  'complianceState',
  'managementAgent',
  'managedDeviceOwnerType',
  'userPrincipalName',
  'lastSyncDateTime',
  'operatingSystem',
].join(',');

/** An OData string literal: single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

const NOT_MANAGED_AGENTS = new Set(['eas', 'unknown']);

export class IntuneDeviceInventory implements DeviceInventory {
  readonly name = `${GRAPH_PROVIDER}:intune-managed-devices`;

  constructor(
    readonly client: GraphClient,
    private readonly options: IntuneDeviceOptions,
  ) {}

  async lookupDevice(host: string): Promise<DeviceFinding | null> {
    // Built by hand so spaces are %20, as Graph documents, not the "+" of form encoding.
    const query = `$filter=${encodeURIComponent(`deviceName eq ${odataString(host)}`)}&$select=${SELECT}`;
    const devices: ManagedDevice[] = await this.client.getAll(
      `find managed device ${host}`,
      `/v1.0/deviceManagement/managedDevices?${query}`,
      managedDeviceSchema,
      10,
    );
    const matching = devices.filter((d) => (d.deviceName ?? '').toLowerCase() === host.toLowerCase());
    if (matching.length === 0) return null;
    const synced = (d: ManagedDevice) => (d.lastSyncDateTime ? Date.parse(d.lastSyncDateTime) || 0 : 0);
    const device = matching.reduce((a, b) => (synced(b) > synced(a) ? b : a));
    return this.toFinding(host, device);
  }

  toFinding(host: string, device: ManagedDevice): DeviceFinding {
    if (device.complianceState === '' || device.managementAgent === '') {
      throw new ConnectorInvalidResponseError(GRAPH_PROVIDER, `device ${host}: empty complianceState or managementAgent`);
    }
    const managed = !NOT_MANAGED_AGENTS.has(device.managementAgent);
    const compliant = this.options.allowedComplianceStates.includes(device.complianceState);
    const owner = device.managedDeviceOwnerType ?? 'unknown';
    const corporate = owner === 'company';
    return {
      host: device.deviceName ?? host,
      managed,
      owner: device.userPrincipalName || null,
      cloudStorageAllowed: managed && compliant && (corporate || !this.options.requireCorporateOwned),
      detail:
        `Intune: managementAgent ${device.managementAgent}, complianceState ${device.complianceState}, ` +
        `owner type ${owner}${device.lastSyncDateTime ? `, last sync ${device.lastSyncDateTime}` : ''}`,
    };
  }
}
