/**
 * Microsoft Defender for Endpoint machine isolation. An Entra ID app token (client credentials, scope
 * `https://api.securitycenter.microsoft.com/.default`), machine lookup by DNS name, `POST /api/machines/{id}/isolate`
 * with `{Comment, IsolationType}` (or `/unisolate` with `{Comment}`), then `GET /api/machineactions/{id}` until
 * `Succeeded`. A 400 `ActiveRequestAlreadyExists` means an isolation is already in progress: it is polled, not
 * repeated. The request's comment carries the run's workflow ID, and Defender keeps it as the action's
 * `requestorComment`: a retry finds this run's own request by it (`findOwnRequest`), so a machine isolated by someone
 * else is never credited to the run, nor one this run isolated to someone else. Needs the application permissions
 * Machine.Isolate and Machine.Read.All.
 */
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import type { DeviceIsolationState, IsolationDirection, IsolationOps } from '../../contracts/ports';
import { bearerJson, type BearerTokens } from '../bearer';
import { ConnectorActionFailedError, ConnectorConfigurationError, ConnectorInvalidResponseError } from '../errors';
import { createHttpClient } from '../http';
import { microsoftErrorCode, type EntraApp } from '../microsoft-entra/client';

export interface DefenderOptions {
  /** https://api.securitycenter.microsoft.com (or a regional / api.security.microsoft.com endpoint) */
  baseUrl: string;
  /** The token's resource, e.g. https://api.securitycenter.microsoft.com/.default */
  scope: string;
  isolationType: 'Full' | 'Selective';
  timeoutMs?: number;
}

const PROVIDER = 'microsoft-defender';
const PERMISSION = 'WindowsDefenderATP application permissions Machine.Isolate and Machine.Read.All';

const machinesResponse = z.object({ value: z.array(z.object({ id: z.string(), computerDnsName: z.string().nullable() })) });
const machineAction = z.object({
  id: z.string(),
  type: z.string(),
  status: z.string(),
  machineId: z.string().nullish(),
  creationDateTimeUtc: z.string().nullish(),
  requestor: z.string().nullish(),
  requestorComment: z.string().nullish(),
});
const actionsResponse = z.object({ value: z.array(machineAction) });

const IN_PROGRESS = new Set(['Pending', 'InProgress']);
const FAILED = new Set(['Failed', 'TimeOut', 'Cancelled']);

function odataString(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,255}$/.test(value)) {
    throw new ConnectorConfigurationError(PROVIDER, `refusing to build a filter from "${value}"`);
  }
  return `'${value}'`;
}

export class DefenderIsolation implements IsolationOps {
  readonly provider = PROVIDER;
  private readonly http: AxiosInstance;
  private readonly token: BearerTokens;

  /** `app`: the Entra app registration whose token cache Defender shares with Graph. */
  constructor(
    app: EntraApp,
    private readonly options: DefenderOptions,
  ) {
    this.http = createHttpClient({ provider: PROVIDER, baseURL: options.baseUrl, timeoutMs: options.timeoutMs });
    this.token = app.tokensFor(options.scope, PROVIDER);
  }

  private call<S extends z.ZodType>(what: string, config: AxiosRequestConfig, schema: S): Promise<z.infer<S>> {
    return bearerJson(this.http, PROVIDER, this.token, what, config, schema, { permission: PERMISSION, vendorCodeOf: microsoftErrorCode });
  }

  async findDevices(host: string): Promise<{ id: string; hostname: string }[]> {
    const body = await this.call(
      `look up machine "${host}"`,
      { method: 'GET', url: '/api/machines', params: { $filter: `startswith(computerDnsName,${odataString(host.toLowerCase())})` } },
      machinesResponse,
    );
    const wanted = host.toLowerCase();
    // computerDnsName is usually the FQDN: the short name must match the first label exactly.
    return body.value
      .filter((m) => {
        const dns = (m.computerDnsName ?? '').toLowerCase();
        return dns === wanted || dns.startsWith(`${wanted}.`);
      })
      .map((m) => ({ id: m.id, hostname: m.computerDnsName ?? host }));
  }

  private async actionsOf(machineId: string) {
    const body = await this.call(
      `list machine actions of ${machineId}`,
      { method: 'GET', url: '/api/machineactions', params: { $filter: `machineId eq ${odataString(machineId)}` } },
      actionsResponse,
    );
    return body.value
      .filter((a) => a.type === 'Isolate' || a.type === 'Unisolate')
      .sort((a, b) => (b.creationDateTimeUtc ?? '').localeCompare(a.creationDateTimeUtc ?? ''));
  }

  async state(machineId: string, actionId: string | null): Promise<DeviceIsolationState> {
    if (actionId) {
      const action = await this.call(
        `read machine action ${actionId}`,
        { method: 'GET', url: `/api/machineactions/${encodeURIComponent(actionId)}` },
        machineAction,
      );
      if (FAILED.has(action.status)) {
        throw new ConnectorActionFailedError(PROVIDER, `machine action ${actionId} (${action.type}) ended ${action.status}`);
      }
      const isolate = action.type === 'Isolate';
      if (action.status === 'Succeeded') return isolate ? 'isolated' : 'normal';
      return isolate ? 'isolating' : 'releasing';
    }
    // No action of ours yet: the machine's latest isolation-related action that did not fail tells its state.
    const latest = (await this.actionsOf(machineId)).find((a) => !FAILED.has(a.status));
    if (!latest) return 'normal';
    const isolate = latest.type === 'Isolate';
    if (IN_PROGRESS.has(latest.status)) return isolate ? 'isolating' : 'releasing';
    return isolate ? 'isolated' : 'normal';
  }

  async findOwnRequest(machineId: string, direction: IsolationDirection, workflowId: string): Promise<{ actionId: string } | null> {
    const wanted = direction === 'isolate' ? 'Isolate' : 'Unisolate';
    const marker = `run ${workflowId}:`;
    const own = (await this.actionsOf(machineId)).find(
      (a) => a.type === wanted && !FAILED.has(a.status) && (a.requestorComment ?? '').includes(marker),
    );
    return own ? { actionId: own.id } : null;
  }

  async request(direction: IsolationDirection, machineId: string, comment: string): Promise<{ actionId: string | null }> {
    if (!machineId) throw new ConnectorConfigurationError(PROVIDER, 'refusing a machine action without a machine ID');
    const verb = direction === 'isolate' ? 'isolate' : 'unisolate';
    const what = `${verb} machine ${machineId}`;
    const data = direction === 'isolate' ? { Comment: comment, IsolationType: this.options.isolationType } : { Comment: comment };
    try {
      const response = await this.call(
        what,
        { method: 'POST', url: `/api/machines/${encodeURIComponent(machineId)}/${verb}`, data },
        z.unknown(),
      );
      const parsed = machineAction.safeParse(response);
      return { actionId: parsed.success ? parsed.data.id : null };
    } catch (err) {
      if (err instanceof ConnectorInvalidResponseError && err.status === 400 && err.vendorCode === 'ActiveRequestAlreadyExists') {
        // Already in progress (ours from a lost attempt, or an analyst's): follow that action instead.
        const wanted = direction === 'isolate' ? 'Isolate' : 'Unisolate';
        const active = (await this.actionsOf(machineId)).find((a) => a.type === wanted && IN_PROGRESS.has(a.status));
        return { actionId: active?.id ?? null };
      }
      throw err;
    }
  }
}
