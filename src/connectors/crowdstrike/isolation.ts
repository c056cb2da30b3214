/**
 * CrowdStrike Falcon network containment. OAuth2 client credentials (`POST /oauth2/token`), device lookup by exact
 * host name (`GET /devices/queries/devices/v1?filter=hostname:'...'`), `POST /devices/entities/devices-actions/v2`
 * with `action_name=contain` or `lift_containment` and `{"ids": [...]}`, then `GET /devices/entities/devices/v2`
 * until `status` is `contained` (or `normal` after a lift). Needs the API scope Hosts: Read + Write.
 */
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import type { DeviceIsolationState, IsolationDirection, IsolationOps } from '../../contracts/ports';
import { bearerJson, type BearerTokens } from '../bearer';
import { ConnectorConfigurationError, ConnectorInvalidResponseError } from '../errors';
import { createHttpClient } from '../http';
import { clientCredentialsToken } from '../oauth2';

export interface CrowdStrikeOptions {
  /** e.g. https://api.crowdstrike.com, https://api.us-2.crowdstrike.com, https://api.eu-1.crowdstrike.com */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Flight Control: the child CID to act in. */
  memberCid?: string;
  timeoutMs?: number;
}

const PROVIDER = 'crowdstrike';
const PERMISSION = 'API client scope "Hosts: Read" and "Hosts: Write"';

const errorsField = z.array(z.object({ code: z.number().optional(), message: z.string() })).nullish();
const queryResponse = z.object({ resources: z.array(z.string()).nullable(), errors: errorsField });
const devicesResponse = z.object({
  resources: z.array(z.object({ device_id: z.string(), hostname: z.string().optional(), status: z.string() })).nullable(),
  errors: errorsField,
});
const actionResponse = z.object({ resources: z.array(z.object({ id: z.string() })).nullable(), errors: errorsField });

/** Falcon's error envelope `{"errors": [{"code": 403, "message": "..."}]}`: the first error's code. */
function falconErrorCode(body: unknown): string | undefined {
  const parsed = z.object({ errors: errorsField }).safeParse(body);
  const code = parsed.success ? parsed.data.errors?.[0]?.code : undefined;
  return code === undefined ? undefined : String(code);
}

const STATE: Record<string, DeviceIsolationState | undefined> = {
  normal: 'normal',
  containment_pending: 'isolating',
  contained: 'isolated',
  lift_containment_pending: 'releasing',
};

/** FQL string literal: quotes and backslashes would change the filter, so such names are refused. */
function fqlHostname(host: string): string {
  if (!/^[A-Za-z0-9._-]{1,255}$/.test(host)) {
    throw new ConnectorConfigurationError(PROVIDER, `refusing to build a device filter from the host name "${host}"`);
  }
  return `hostname:'${host}'`;
}

export class CrowdStrikeIsolation implements IsolationOps {
  readonly provider = PROVIDER;
  private readonly http: AxiosInstance;
  private readonly token: BearerTokens;

  constructor(private readonly options: CrowdStrikeOptions) {
    this.http = createHttpClient({ provider: PROVIDER, baseURL: options.baseUrl, timeoutMs: options.timeoutMs });
    this.token = clientCredentialsToken(this.http, PROVIDER, '/oauth2/token', {
      client_id: options.clientId,
      client_secret: options.clientSecret,
      ...(options.memberCid ? { member_cid: options.memberCid } : {}),
    });
  }

  private call<S extends z.ZodType>(what: string, config: Parameters<AxiosInstance['request']>[0], schema: S): Promise<z.infer<S>> {
    return bearerJson(this.http, PROVIDER, this.token, what, config, schema, { permission: PERMISSION, vendorCodeOf: falconErrorCode });
  }

  async findDevices(host: string): Promise<{ id: string; hostname: string }[]> {
    const ids = await this.call(
      `look up device "${host}"`,
      { method: 'GET', url: '/devices/queries/devices/v1', params: { filter: fqlHostname(host) } },
      queryResponse,
    );
    const found = ids.resources ?? [];
    if (found.length === 0) return [];
    const devices = await this.devices(found);
    // FQL matching may be looser than we want: keep exact (case-insensitive) host-name matches only.
    return devices
      .filter((d) => (d.hostname ?? '').toLowerCase() === host.toLowerCase())
      .map((d) => ({ id: d.device_id, hostname: d.hostname ?? host }));
  }

  private async devices(ids: string[]) {
    const body = await this.call(
      'read device status',
      { method: 'GET', url: '/devices/entities/devices/v2', params: { ids }, paramsSerializer: { indexes: null } },
      devicesResponse,
    );
    return body.resources ?? [];
  }

  async state(deviceId: string): Promise<DeviceIsolationState> {
    const device = (await this.devices([deviceId])).find((d) => d.device_id === deviceId);
    if (!device) throw new ConnectorInvalidResponseError(PROVIDER, `device ${deviceId} is missing from its status response`);
    const state = Object.hasOwn(STATE, device.status) ? STATE[device.status] : undefined;
    if (!state) throw new ConnectorInvalidResponseError(PROVIDER, `device ${deviceId} has an unknown status "${device.status}"`);
    return state;
  }

  async request(direction: IsolationDirection, deviceId: string): Promise<{ actionId: string | null }> {
    if (!deviceId) throw new ConnectorConfigurationError(PROVIDER, 'refusing a device action without a device ID');
    const action = direction === 'isolate' ? 'contain' : 'lift_containment';
    await this.call(
      `${action} device ${deviceId}`,
      { method: 'POST', url: '/devices/entities/devices-actions/v2', params: { action_name: action }, data: { ids: [deviceId] } },
      actionResponse,
    );
    return { actionId: null };
  }
}
