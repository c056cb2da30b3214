/**
 * ServiceNow Table API (`/api/now/table/{table}`): instance URL, basic or OAuth bearer authentication, and the
 * `{"result": [...]}` envelope. Errors arrive as `{"error": {"message", "detail"}, "status": "failure"}`; the shared
 * plumbing maps their HTTP status and keeps the message.
 */
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { createHttpClient, requestJson } from '../http';

export const SERVICENOW_PROVIDER = 'servicenow';

export interface ServiceNowClientOptions {
  /** e.g. https://acme.service-now.com */
  instanceUrl: string;
  auth: { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };
  timeoutMs?: number;
}

export const serviceNowErrorSchema = z.object({
  error: z.object({ message: z.string(), detail: z.string().nullish() }),
  status: z.literal('failure'),
});

export class ServiceNowClient {
  readonly http: AxiosInstance;

  constructor(options: ServiceNowClientOptions) {
    const authorization =
      options.auth.type === 'basic'
        ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`, 'utf8').toString('base64')}`
        : `Bearer ${options.auth.token}`;
    this.http = createHttpClient({
      provider: SERVICENOW_PROVIDER,
      baseURL: new URL(options.instanceUrl).origin,
      timeoutMs: options.timeoutMs,
      headers: { authorization },
    });
  }

  /** One page of `GET /api/now/table/{table}`: the records of `result`, each validated with `record`. */
  async tablePage<S extends z.ZodType>(
    what: string,
    table: string,
    params: Record<string, string | number>,
    record: S,
  ): Promise<z.infer<S>[]> {
    const body = await requestJson(
      this.http,
      SERVICENOW_PROVIDER,
      what,
      { method: 'GET', url: `/api/now/table/${encodeURIComponent(table)}`, params },
      z.object({ result: z.array(record) }),
    );
    return body.result;
  }
}
