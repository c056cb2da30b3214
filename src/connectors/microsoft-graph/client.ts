/**
 * Microsoft Graph with an app-only token: the OAuth 2.0 client-credentials grant against the Microsoft identity
 * platform (`POST {authority}/{tenant}/oauth2/v2.0/token`, scope `https://graph.microsoft.com/.default`), the token
 * cached until shortly before it expires and shared by concurrent callers, and Graph's error envelope
 * `{"error": {"code", "message"}}`. Shared by the Intune device inventory and, separately, Entra session revocation.
 */
import { AxiosError, type AxiosInstance, type AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import { ConnectorAuthError, ConnectorInvalidResponseError } from '../errors';
import { createHttpClient, requestJson, toConnectorError } from '../http';

export const GRAPH_PROVIDER = 'microsoft-graph';

export interface GraphClientOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Default https://login.microsoftonline.com (national clouds and tests use others). */
  authorityUrl?: string;
  /** Default https://graph.microsoft.com */
  graphUrl?: string;
  timeoutMs?: number;
  /** Renew the token this long before it expires (default 5 minutes). */
  refreshBeforeExpiryMs?: number;
  /** Injected clock for tests. */
  now?: () => number;
}

const tokenResponseSchema = z.object({
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'must be Bearer'),
  expires_in: z.coerce.number().int().positive(),
  access_token: z.string().min(1),
});

/** The identity platform's error body: `{"error": "invalid_client", "error_description": "AADSTS7000215: ..."}`. */
export const tokenErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/** Graph's error body: `{"error": {"code": "Authorization_RequestDenied", "message": "..."}}`. */
export const graphErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), innerError: z.record(z.string(), z.unknown()).optional() }),
});

/** Client-credentials tokens for one app registration, cached until `refreshBeforeExpiryMs` before expiry. */
export class GraphTokenProvider {
  private readonly http: AxiosInstance;
  private cached: { token: string; expiresAt: number } | null = null;
  private inFlight: Promise<string> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: GraphClientOptions) {
    this.now = options.now ?? Date.now;
    this.http = createHttpClient({
      provider: GRAPH_PROVIDER,
      baseURL: new URL(options.authorityUrl ?? 'https://login.microsoftonline.com').origin,
      timeoutMs: options.timeoutMs,
    });
  }

  /** A valid access token, from the cache when it is not about to expire. */
  token(): Promise<string> {
    const skew = this.options.refreshBeforeExpiryMs ?? 5 * 60_000;
    if (this.cached && this.cached.expiresAt - skew > this.now()) return Promise.resolve(this.cached.token);
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Forget the cached token (Graph rejected it, e.g. revoked). */
  invalidate(): void {
    this.cached = null;
  }

  private async fetchToken(): Promise<string> {
    const what = 'get an access token (client credentials)';
    const form = new URLSearchParams({
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
      scope: `${new URL(this.options.graphUrl ?? 'https://graph.microsoft.com').origin}/.default`,
      grant_type: 'client_credentials',
    });
    const requestedAt = this.now();
    let data: unknown;
    try {
      data = (
        await this.http.request({
          method: 'POST',
          url: `/${encodeURIComponent(this.options.tenantId)}/oauth2/v2.0/token`,
          data: form.toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).data;
    } catch (err) {
      // 400/401 with an OAuth error code: wrong tenant, client ID or secret, or no consent. Not retryable.
      const body = err instanceof AxiosError ? tokenErrorSchema.safeParse(err.response?.data) : null;
      if (body?.success && (err as AxiosError).response?.status !== undefined && (err as AxiosError).response!.status < 500) {
        throw new ConnectorAuthError(
          GRAPH_PROVIDER,
          `${what}: ${body.data.error}${body.data.error_description ? `: ${body.data.error_description.split('\n')[0]}` : ''}`,
        );
      }
      throw toConnectorError(GRAPH_PROVIDER, what, err);
    }
    const parsed = tokenResponseSchema.safeParse(data);
    if (!parsed.success) {
      throw new ConnectorInvalidResponseError(GRAPH_PROVIDER, `${what}: unexpected token response (${parsed.error.issues[0]?.message})`);
    }
    this.cached = { token: parsed.data.access_token, expiresAt: requestedAt + parsed.data.expires_in * 1000 };
    return parsed.data.access_token;
  }
}

export class GraphClient {
  readonly http: AxiosInstance;
  readonly tokens: GraphTokenProvider;
  readonly origin: string;

  constructor(options: GraphClientOptions) {
    this.origin = new URL(options.graphUrl ?? 'https://graph.microsoft.com').origin;
    this.tokens = new GraphTokenProvider(options);
    this.http = createHttpClient({ provider: GRAPH_PROVIDER, baseURL: this.origin, timeoutMs: options.timeoutMs });
  }

  /**
   * A Graph request with the app token, validated with `schema`. When Graph rejects the cached token (401), the
   * token is renewed and the request tried once more; anything else is a ConnectorError.
   */
  async request<S extends z.ZodType>(what: string, config: AxiosRequestConfig, schema: S): Promise<z.infer<S>> {
    if (config.url !== undefined && /^https?:/i.test(config.url) && new URL(config.url).origin !== this.origin) {
      throw new ConnectorInvalidResponseError(GRAPH_PROVIDER, `${what}: refusing to send the token to ${new URL(config.url).origin}`);
    }
    const send = async () =>
      requestJson(
        this.http,
        GRAPH_PROVIDER,
        what,
        { ...config, headers: { ...(config.headers as Record<string, string>), authorization: `Bearer ${await this.tokens.token()}` } },
        schema,
      );
    try {
      return await send();
    } catch (err) {
      // Only a 401 means the token itself was refused; a 403 is a missing permission and renewing will not help.
      if (err instanceof ConnectorAuthError && err.message.includes(`${what}: HTTP 401`)) {
        this.tokens.invalidate();
        return await send();
      }
      throw err;
    }
  }
}
