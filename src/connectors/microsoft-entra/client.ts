/**
 * Microsoft Entra ID app-only tokens, the one token cache for every Microsoft API this worker calls (Graph for Intune
 * devices and session revocation, Defender for Endpoint): the OAuth 2.0 client-credentials grant against the
 * Microsoft identity platform (`POST {authority}/{tenant}/oauth2/v2.0/token`) for one app registration, one cached
 * token per resource scope, shared by concurrent callers; and the error envelope those APIs share. The identity
 * platform's error body `{"error": "invalid_client", "error_description": "AADSTS7000215: ..."}` becomes an auth
 * error that keeps the code and the AADSTS reason, never the secret.
 */
import { AxiosError, type AxiosInstance } from 'axios';
import { z } from 'zod';
import type { BearerTokens } from '../bearer';
import { ConnectorAuthError, ConnectorInvalidResponseError } from '../errors';
import { createHttpClient, toConnectorError } from '../http';
import { CachedToken } from '../oauth2';

export const ENTRA_AUTHORITY = 'https://login.microsoftonline.com';

/**
 * Renew a token 5 minutes before it expires. Entra access tokens live 60 to 90 minutes, so renewing early costs
 * nothing; the margin must cover the clock skew between this host and the API that checks `exp`, plus the slowest
 * call that starts with the token (a Defender poll loop sends several). It is also MSAL's own default, so the
 * worker renews when Microsoft's SDKs would.
 */
export const ENTRA_REFRESH_MARGIN_MS = 5 * 60_000;

/** The v2.0 token endpoint of a tenant. */
export function entraTokenUrl(tenantId: string, authorityUrl: string = ENTRA_AUTHORITY): string {
  return `${new URL(authorityUrl).origin}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

export interface EntraAppOptions {
  /** https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token (see `entraTokenUrl`). */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs?: number | undefined;
  /** Tests only: another renewal margin than ENTRA_REFRESH_MARGIN_MS. */
  refreshMarginMs?: number | undefined;
  /** Injected clock for tests. */
  now?: (() => number) | undefined;
}

const tokenResponseSchema = z.object({
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'must be Bearer'),
  expires_in: z.coerce.number().int().positive(),
  access_token: z.string().min(1),
});

/** The identity platform's error body: `{"error": "invalid_client", "error_description": "AADSTS7000215: ..."}`. */
export const tokenErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/**
 * The error body of Microsoft's REST APIs, Graph and Defender for Endpoint alike:
 * `{"error": {"code": "Authorization_RequestDenied", "message": "..."}}`.
 */
export const microsoftErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), innerError: z.record(z.string(), z.unknown()).optional() }),
});

/** The `error.code` of a Graph or Defender error body, kept as `ConnectorError.vendorCode`. */
export function microsoftErrorCode(body: unknown): string | undefined {
  const parsed = microsoftErrorSchema.safeParse(body);
  return parsed.success ? parsed.data.error.code : undefined;
}

/** One app registration: its client credentials and a token cache per scope. */
export class EntraApp {
  private readonly http: AxiosInstance;
  private readonly caches = new Map<string, CachedToken>();

  constructor(private readonly options: EntraAppOptions) {
    this.http = createHttpClient({ provider: 'microsoft-entra', baseURL: new URL(options.tokenUrl).origin, timeoutMs: options.timeoutMs });
  }

  /**
   * The cached token for one resource, e.g. `https://graph.microsoft.com/.default`. `provider` names the API that
   * needs it in the errors a caller sees ("microsoft-graph: get an access token ...").
   */
  tokensFor(scope: string, provider: string): BearerTokens {
    let cache = this.caches.get(scope);
    if (!cache) {
      cache = new CachedToken(() => this.fetchToken(scope, provider), {
        refreshMarginMs: this.options.refreshMarginMs ?? ENTRA_REFRESH_MARGIN_MS,
        ...(this.options.now ? { now: this.options.now } : {}),
      });
      this.caches.set(scope, cache);
    }
    return cache;
  }

  private async fetchToken(scope: string, provider: string): Promise<{ accessToken: string; expiresInSeconds: number }> {
    const what = 'get an access token (client credentials)';
    const form = new URLSearchParams({
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
      scope,
      grant_type: 'client_credentials',
    });
    let data: unknown;
    try {
      data = (
        await this.http.request({
          method: 'POST',
          url: this.options.tokenUrl,
          data: form.toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).data;
    } catch (err) {
      // 400/401 with an OAuth error code: wrong tenant, client ID or secret, or no consent. Not retryable.
      const status = err instanceof AxiosError ? err.response?.status : undefined;
      const body = err instanceof AxiosError ? tokenErrorSchema.safeParse(err.response?.data) : null;
      if (body?.success && status !== undefined && status < 500) {
        const reason = body.data.error_description ? `: ${body.data.error_description.split('\n')[0]}` : '';
        throw new ConnectorAuthError(provider, `${what}: ${body.data.error}${reason}`, { status, vendorCode: body.data.error });
      }
      throw toConnectorError(provider, what, err);
    }
    const parsed = tokenResponseSchema.safeParse(data);
    if (!parsed.success) {
      throw new ConnectorInvalidResponseError(provider, `${what}: unexpected token response (${parsed.error.issues[0]?.message})`);
    }
    return { accessToken: parsed.data.access_token, expiresInSeconds: parsed.data.expires_in };
  }
}
