/**
 * SentinelOne network quarantine. `Authorization: ApiToken <token>`, agent lookup by exact computer name
 * (`GET /web/api/v2.1/agents?computerName=`), `POST /web/api/v2.1/agents/actions/disconnect` (or `/connect`) with
 * `{"filter": {"ids": [...]}}`, then the agent's `networkStatus` polled until `disconnected` (or `connected`).
 * The filter is only ever a non-empty list of agent IDs: an empty or broad filter would act on every agent in scope,
 * so it is refused before any request. `data.affected: 0` is a failure. Needs a role with Endpoints: Disconnect From
 * Network and Reconnect To Network (and Endpoints: View).
 */
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import type { DeviceIsolationState, IsolationDirection, IsolationOps } from '../../contracts/ports';
import { ConnectorActionFailedError, ConnectorConfigurationError, ConnectorInvalidResponseError } from '../errors';
import { createHttpClient } from '../http';
import { vendorJson } from '../vendor-call';

export interface SentinelOneOptions {
  /** The management console, e.g. https://usea1-acme.sentinelone.net */
  baseUrl: string;
  apiToken: string;
  timeoutMs?: number;
}

const PROVIDER = 'sentinelone';
const PERMISSION = 'a role with Endpoints: View, Disconnect From Network and Reconnect To Network';

const agentsResponse = z.object({
  data: z.array(z.object({ id: z.string(), computerName: z.string(), networkStatus: z.string().nullable() })),
});
const actionResponse = z.object({ data: z.object({ affected: z.number().int().nonnegative() }) });

/** SentinelOne's error envelope `{"errors": [{"code": 4010010, "title": "Authentication Failed"}]}`: the first code. */
function s1ErrorCode(body: unknown): string | undefined {
  const parsed = z.object({ errors: z.array(z.object({ code: z.number() })).min(1) }).safeParse(body);
  return parsed.success ? String(parsed.data.errors[0]?.code) : undefined;
}

const STATE: Record<string, DeviceIsolationState | undefined> = {
  connected: 'normal',
  disconnecting: 'isolating',
  disconnected: 'isolated',
  connecting: 'releasing',
};

/** The only filter this connector ever sends: a non-empty list of non-empty agent IDs. */
export function idFilter(ids: readonly string[]): { filter: { ids: string[] } } {
  if (ids.length === 0 || ids.some((id) => typeof id !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(id))) {
    throw new ConnectorConfigurationError(
      PROVIDER,
      `refusing an agent action with an empty or malformed ID filter (${JSON.stringify(ids)})`,
    );
  }
  return { filter: { ids: [...ids] } };
}

export class SentinelOneIsolation implements IsolationOps {
  readonly provider = PROVIDER;
  private readonly http: AxiosInstance;

  constructor(private readonly options: SentinelOneOptions) {
    this.http = createHttpClient({
      provider: PROVIDER,
      baseURL: options.baseUrl,
      timeoutMs: options.timeoutMs,
      headers: { authorization: `ApiToken ${options.apiToken}` },
    });
  }

  private call<S extends z.ZodType>(what: string, config: AxiosRequestConfig, schema: S): Promise<z.infer<S>> {
    return vendorJson(this.http, PROVIDER, what, config, schema, PERMISSION, s1ErrorCode);
  }

  async findDevices(host: string): Promise<{ id: string; hostname: string }[]> {
    if (!host.trim()) throw new ConnectorConfigurationError(PROVIDER, 'refusing to look up an empty computer name');
    const body = await this.call(
      `look up agent "${host}"`,
      { method: 'GET', url: '/web/api/v2.1/agents', params: { computerName: host } },
      agentsResponse,
    );
    return body.data
      .filter((a) => a.computerName.toLowerCase() === host.toLowerCase())
      .map((a) => ({ id: a.id, hostname: a.computerName }));
  }

  async state(agentId: string): Promise<DeviceIsolationState> {
    const body = await this.call(
      `read agent ${agentId}`,
      { method: 'GET', url: '/web/api/v2.1/agents', params: { ids: idFilter([agentId]).filter.ids.join(',') } },
      agentsResponse,
    );
    const agent = body.data.find((a) => a.id === agentId);
    if (!agent) throw new ConnectorInvalidResponseError(PROVIDER, `agent ${agentId} is missing from its own lookup`);
    const status = agent.networkStatus ?? '';
    const state = Object.hasOwn(STATE, status) ? STATE[status] : undefined;
    if (!state) throw new ConnectorInvalidResponseError(PROVIDER, `agent ${agentId} has an unknown networkStatus "${agent.networkStatus}"`);
    return state;
  }

  async request(direction: IsolationDirection, agentId: string): Promise<{ actionId: string | null }> {
    const verb = direction === 'isolate' ? 'disconnect' : 'connect';
    const body = await this.call(
      `${verb} agent ${agentId}`,
      { method: 'POST', url: `/web/api/v2.1/agents/actions/${verb}`, data: idFilter([agentId]) },
      actionResponse,
    );
    if (body.data.affected === 0) {
      throw new ConnectorActionFailedError(PROVIDER, `${verb} agent ${agentId}: the console affected no agent (affected: 0)`);
    }
    return { actionId: null };
  }
}
