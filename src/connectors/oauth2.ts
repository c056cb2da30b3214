/**
 * OAuth 2.0 access tokens for vendor connectors, cached until shortly before they expire. One request in flight
 * at a time per cache (concurrent callers share it). The secret is sent only in the token request body and never
 * appears in an error message: failures name the provider and the vendor's own error code.
 */
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { ConnectorAuthError, ConnectorError } from './errors';
import { requestJson, toConnectorError } from './http';

const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
  token_type: z.string().optional(),
});

/** Token endpoints answer 400 with these codes when the credentials are wrong: an auth failure, not a bad request. */
const AUTH_ERROR_CODES = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant', 'access_denied', 'invalid_scope']);

/** The OAuth 2.0 error body (RFC 6749 §5.2): `{"error": "invalid_client", "error_description": "..."}`. */
export function oauthErrorCode(body: unknown): string | undefined {
  const parsed = z.object({ error: z.string() }).safeParse(body);
  return parsed.success ? parsed.data.error : undefined;
}

export interface TokenSourceOptions {
  /** Milliseconds before expiry at which a cached token is no longer used (default 60 s). */
  refreshMarginMs?: number;
  now?: () => number;
}

/** A token cache around a function that fetches a fresh token. */
export class CachedToken {
  private cached: { token: string; expiresAt: number } | null = null;
  private inFlight: Promise<string> | null = null;
  private readonly margin: number;
  private readonly now: () => number;

  constructor(
    private readonly fetchToken: () => Promise<{ accessToken: string; expiresInSeconds: number }>,
    options: TokenSourceOptions = {},
  ) {
    this.margin = options.refreshMarginMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<string> {
    if (this.cached && this.now() < this.cached.expiresAt - this.margin) return this.cached.token;
    this.inFlight ??= this.fetchToken()
      .then(({ accessToken, expiresInSeconds }) => {
        this.cached = { token: accessToken, expiresAt: this.now() + expiresInSeconds * 1000 };
        return accessToken;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  /** Forgets the cached token (after the vendor rejected it with 401). */
  invalidate(): void {
    this.cached = null;
  }
}

/**
 * POSTs a form-encoded token request (client credentials, JWT bearer) and validates the answer. A 400/401 carrying an
 * OAuth error code for bad credentials becomes a ConnectorAuthError.
 */
export async function requestToken(
  http: AxiosInstance,
  provider: string,
  url: string,
  form: Record<string, string>,
): Promise<{ accessToken: string; expiresInSeconds: number }> {
  try {
    const body = await requestJson(
      http,
      provider,
      'obtain an access token',
      {
        method: 'POST',
        url,
        data: new URLSearchParams(form).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      tokenResponse,
      oauthErrorCode,
    );
    return { accessToken: body.access_token, expiresInSeconds: body.expires_in };
  } catch (err) {
    const code = err instanceof ConnectorError ? err.vendorCode : undefined;
    if (err instanceof ConnectorError && err.kind === 'invalid-response' && code !== undefined && AUTH_ERROR_CODES.has(code)) {
      throw new ConnectorAuthError(provider, `obtain an access token: the token endpoint refused the credentials (${code})`, {
        status: err.status,
        vendorCode: code,
      });
    }
    throw err instanceof ConnectorError ? err : toConnectorError(provider, 'obtain an access token', err);
  }
}

/** Client-credentials tokens (CrowdStrike; Microsoft Entra ID has its own, see microsoft-entra/client.ts). */
export function clientCredentialsToken(
  http: AxiosInstance,
  provider: string,
  url: string,
  form: Record<string, string>,
  options: TokenSourceOptions = {},
): CachedToken {
  return new CachedToken(() => requestToken(http, provider, url, form), options);
}
