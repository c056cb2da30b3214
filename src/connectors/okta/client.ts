/**
 * Okta management API, the one client for every Okta capability (the HR directory, session containment): the org
 * base URL, authentication (an API token as `SSWS`, or an OAuth 2.0 access token of a service app as `Bearer`),
 * Okta's error envelope (its `errorCode` kept as `ConnectorError.vendorCode`), its `X-Rate-Limit-Reset` hint (read
 * by the shared plumbing) and its `Link: <...>; rel="next"` pagination.
 */
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import { ConnectorInvalidResponseError } from '../errors';
import { createHttpClient, headerValue, requestJsonWithHeaders } from '../http';
import { withPermissionHint } from '../vendor-call';

export const OKTA_PROVIDER = 'okta';

export interface OktaClientOptions {
  /** e.g. https://acme.okta.com */
  orgUrl: string;
  auth: { type: 'ssws' | 'bearer'; token: string };
  timeoutMs?: number;
}

/** Okta's error body, e.g. `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: x (User)"}`. */
export const oktaErrorSchema = z.object({
  errorCode: z.string(),
  errorSummary: z.string(),
  errorLink: z.string().optional(),
  errorId: z.string().optional(),
  errorCauses: z.array(z.object({ errorSummary: z.string() })).optional(),
});

/** Okta's `errorCode`, e.g. `E0000011` (invalid token), `E0000006` (no permission). */
export function oktaErrorCode(body: unknown): string | undefined {
  const parsed = oktaErrorSchema.safeParse(body);
  return parsed.success ? parsed.data.errorCode : undefined;
}

/** The `rel="next"` target of an RFC 8288 Link header, or null. */
export function nextLink(link: string | undefined): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part.trim());
    if (match?.[1]) return match[1];
  }
  return null;
}

export class OktaClient {
  readonly http: AxiosInstance;
  private readonly origin: string;

  constructor(options: OktaClientOptions) {
    const scheme = options.auth.type === 'ssws' ? 'SSWS' : 'Bearer';
    this.origin = new URL(options.orgUrl).origin;
    this.http = createHttpClient({
      provider: OKTA_PROVIDER,
      baseURL: this.origin,
      timeoutMs: options.timeoutMs,
      headers: { authorization: `${scheme} ${options.auth.token}` },
    });
  }

  /**
   * Any request against the org, validated with `schema`. With `permission`, a 401/403 names the admin permission
   * the token lacks.
   */
  async request<S extends z.ZodType>(what: string, config: AxiosRequestConfig, schema: S, permission?: string): Promise<z.infer<S>> {
    try {
      return (await requestJsonWithHeaders(this.http, OKTA_PROVIDER, what, config, schema, oktaErrorCode)).data;
    } catch (err) {
      throw permission === undefined ? err : withPermissionHint(err, permission);
    }
  }

  /** GET one resource, validated. */
  get<S extends z.ZodType>(what: string, path: string, schema: S, params?: Record<string, string | number>): Promise<z.infer<S>> {
    return this.request(what, { method: 'GET', url: path, params }, schema);
  }

  /**
   * GET a collection, following `Link: rel="next"` up to `maxPages` pages. A next link to another origin is refused
   * (the token must never be sent elsewhere).
   */
  async getAll<S extends z.ZodType<unknown[]>>(
    what: string,
    path: string,
    schema: S,
    params: Record<string, string | number>,
    maxPages = 20,
  ): Promise<z.infer<S>[number][]> {
    const items: z.infer<S>[number][] = [];
    let url: string | null = path;
    let query: Record<string, string | number> | undefined = params;
    for (let page = 0; url !== null && page < maxPages; page++) {
      const { data, headers }: { data: unknown[]; headers: Record<string, unknown> } = await requestJsonWithHeaders(
        this.http,
        OKTA_PROVIDER,
        what,
        { method: 'GET', url, params: query },
        schema,
        oktaErrorCode,
      );
      items.push(...data);
      const next = nextLink(headerValue(headers, 'link'));
      if (next !== null && new URL(next, this.origin).origin !== this.origin) {
        throw new ConnectorInvalidResponseError(OKTA_PROVIDER, `${what}: next page link points to another origin`);
      }
      url = next;
      query = undefined; // the next link carries the cursor and the limit
    }
    return items;
  }
}
