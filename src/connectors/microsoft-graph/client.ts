/**
 * Microsoft Graph with an app-only token from the one Entra token cache (`EntraApp`), Microsoft's error envelope
 * `{"error": {"code", "message"}}` (the code kept as `ConnectorError.vendorCode`), its `Retry-After` hint (read by the
 * shared plumbing) and its `@odata.nextLink` pagination. Shared by the Intune device inventory and Entra session
 * revocation.
 */
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import { bearerJson, type BearerTokens } from '../bearer';
import { ConnectorInvalidResponseError } from '../errors';
import { createHttpClient } from '../http';
import { microsoftErrorCode, type EntraApp } from '../microsoft-entra/client';

export const GRAPH_PROVIDER = 'microsoft-graph';
export const GRAPH_URL = 'https://graph.microsoft.com';

export interface GraphClientOptions {
  /** Default https://graph.microsoft.com (national clouds and tests use others). */
  graphUrl?: string | undefined;
  /** The token's resource; default `<graphUrl origin>/.default`. */
  scope?: string | undefined;
  timeoutMs?: number | undefined;
}

export class GraphClient {
  readonly http: AxiosInstance;
  readonly origin: string;
  private readonly tokens: BearerTokens;

  constructor(app: EntraApp, options: GraphClientOptions = {}) {
    this.origin = new URL(options.graphUrl ?? GRAPH_URL).origin;
    this.tokens = app.tokensFor(options.scope ?? `${this.origin}/.default`, GRAPH_PROVIDER);
    this.http = createHttpClient({ provider: GRAPH_PROVIDER, baseURL: this.origin, timeoutMs: options.timeoutMs });
  }

  /**
   * A Graph request with the app token, validated with `schema`; a refused token is renewed once (see bearer.ts).
   * With `permission`, a 401/403 names the Graph permission the app lacks.
   */
  async request<S extends z.ZodType>(what: string, config: AxiosRequestConfig, schema: S, permission?: string): Promise<z.infer<S>> {
    if (config.url !== undefined && /^https?:/i.test(config.url) && new URL(config.url).origin !== this.origin) {
      throw new ConnectorInvalidResponseError(GRAPH_PROVIDER, `${what}: refusing to send the token to ${new URL(config.url).origin}`);
    }
    return bearerJson(this.http, GRAPH_PROVIDER, this.tokens, what, config, schema, {
      vendorCodeOf: microsoftErrorCode,
      ...(permission === undefined ? {} : { permission }),
    });
  }

  /** GET a collection, following `@odata.nextLink` (same origin only) up to `maxPages` pages. */
  async getAll<S extends z.ZodType>(what: string, url: string, itemSchema: S, maxPages: number): Promise<z.infer<S>[]> {
    const pageSchema = z.object({ value: z.array(itemSchema), '@odata.nextLink': z.string().optional() });
    const items: z.infer<S>[] = [];
    let next: string | undefined = url;
    for (let page = 0; next !== undefined && page < maxPages; page++) {
      const body: z.infer<typeof pageSchema> = await this.request(what, { method: 'GET', url: next }, pageSchema);
      items.push(...body.value);
      next = body['@odata.nextLink'];
    }
    return items;
  }
}
