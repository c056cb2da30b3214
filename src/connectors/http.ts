/**
 * Shared HTTP plumbing for vendor connectors: one axios instance per connector (explicit timeout, no redirects to
 * other hosts, no retries of its own: Temporal retries), responses validated with zod, and every failure mapped to
 * the connector error vocabulary with the vendor's own rate-limit signal. Secrets never appear in error messages.
 */
import axios, {
  AxiosError,
  type AxiosInstance,
  type AxiosRequestConfig,
  type AxiosResponseHeaders,
  type RawAxiosResponseHeaders,
} from 'axios';
import type { z } from 'zod';
import {
  ConnectorAuthError,
  ConnectorError,
  ConnectorInvalidResponseError,
  ConnectorNotFoundError,
  ConnectorRateLimitedError,
  ConnectorUnavailableError,
} from './errors';

export interface HttpClientOptions {
  /** Names the vendor in every error, e.g. "okta". */
  provider: string;
  baseURL: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export function createHttpClient(options: HttpClientOptions): AxiosInstance {
  return axios.create({
    baseURL: options.baseURL,
    timeout: options.timeoutMs ?? 15_000,
    maxRedirects: 0,
    headers: { accept: 'application/json', 'user-agent': 'soar-playbook-worker', ...options.headers },
  });
}

type Headers = RawAxiosResponseHeaders | AxiosResponseHeaders | Record<string, unknown>;

function header(headers: Headers | undefined, name: string): string | undefined {
  const value: unknown = headers?.[name.toLowerCase()];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/**
 * The delay a vendor asked for, in ms: `Retry-After` (seconds or an HTTP date), Okta's `X-Rate-Limit-Reset` (epoch
 * seconds), CrowdStrike's `X-RateLimit-RetryAfter` (epoch seconds). Null when it gave none.
 */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | null {
  const retryAfter = header(headers, 'retry-after');
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  for (const name of ['x-rate-limit-reset', 'x-ratelimit-retryafter']) {
    const epoch = Number(header(headers, name));
    if (Number.isFinite(epoch) && epoch > 0) return Math.max(0, epoch * 1000 - now);
  }
  return null;
}

/** A short, secret-free description of a vendor error body (vendors put their reason in different fields). */
function describeBody(data: unknown): string {
  if (data === null || data === undefined || data === '') return '';
  if (typeof data === 'string') return data.slice(0, 300);
  try {
    return JSON.stringify(data).slice(0, 300);
  } catch {
    return '';
  }
}

/**
 * Reads the vendor's own error code from an error body. Each vendor client supplies its own, next to the schema of
 * its error envelope, so the code is kept as a field (`ConnectorError.vendorCode`) and not only inside the message.
 */
export type VendorCodeOf = (body: unknown) => string | undefined;

/** Maps anything axios throws to a ConnectorError naming the provider and what was being done. */
export function toConnectorError(provider: string, what: string, err: unknown, vendorCodeOf?: VendorCodeOf): ConnectorError {
  if (err instanceof ConnectorError) return err;
  if (err instanceof AxiosError) {
    const status = err.response?.status;
    const body = describeBody(err.response?.data);
    const detail = `${what}: HTTP ${status ?? err.code ?? 'error'}${body ? ` ${body}` : ''}`;
    const fields = { status, vendorCode: status === undefined ? undefined : vendorCodeOf?.(err.response?.data) };
    if (status === 401 || status === 403) {
      return new ConnectorAuthError(provider, `${detail} (check the credentials and that they grant the permission this needs)`, fields);
    }
    if (status === 404) return new ConnectorNotFoundError(provider, detail, fields);
    if (status === 429) return new ConnectorRateLimitedError(provider, detail, retryAfterMs(err.response?.headers), fields);
    if (status === undefined || status >= 500 || status === 408) return new ConnectorUnavailableError(provider, detail, fields);
    return new ConnectorInvalidResponseError(provider, detail, fields);
  }
  return new ConnectorUnavailableError(provider, `${what}: ${(err as Error)?.message ?? String(err)}`);
}

/** Performs a request and validates the response body; every failure is a ConnectorError. */
export async function requestJson<S extends z.ZodType>(
  client: AxiosInstance,
  provider: string,
  what: string,
  config: AxiosRequestConfig,
  schema: S,
  vendorCodeOf?: VendorCodeOf,
): Promise<z.infer<S>> {
  return (await requestJsonWithHeaders(client, provider, what, config, schema, vendorCodeOf)).data;
}

/** Like requestJson, and also returns the response headers (for Link or nextLink pagination, rate-limit state). */
export async function requestJsonWithHeaders<S extends z.ZodType>(
  client: AxiosInstance,
  provider: string,
  what: string,
  config: AxiosRequestConfig,
  schema: S,
  vendorCodeOf?: VendorCodeOf,
): Promise<{ data: z.infer<S>; headers: Record<string, unknown> }> {
  let data: unknown;
  let headers: Record<string, unknown>;
  try {
    const response = await client.request(config);
    data = response.data;
    headers = { ...(response.headers as Record<string, unknown>) };
  } catch (err) {
    throw toConnectorError(provider, what, err, vendorCodeOf);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    throw new ConnectorInvalidResponseError(provider, `${what}: unexpected response (${issues})`);
  }
  return { data: parsed.data, headers };
}

/** A response header as a string (axios lowercases names). */
export function headerValue(headers: Headers | undefined, name: string): string | undefined {
  return header(headers, name);
}
