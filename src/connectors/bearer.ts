/**
 * Vendor calls with an OAuth 2.0 bearer token from a cache: the one place that decides what a refused token means.
 * A 401 says the token itself was refused (expired early, revoked, rotated): it is dropped and the call is sent once
 * more with a fresh one. A 403 says the token lacks a permission: it is dropped too, because an admin's new grant
 * only shows in a token issued after it, but the call is not repeated (the same grant would be refused again).
 * A token endpoint that refuses the credentials (401 invalid_client, no consent) names the permission too: the
 * operator who fixes the app registration needs to know what it must be granted.
 */
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import type { z } from 'zod';
import { ConnectorAuthError } from './errors';
import { requestJson, type VendorCodeOf } from './http';
import { withPermissionHint } from './vendor-call';

/** A cached access token: `get` returns the cached one or fetches one; `invalidate` forgets it. */
export interface BearerTokens {
  get(): Promise<string>;
  invalidate(): void;
}

export interface BearerCallOptions {
  /** Named in a 401/403, e.g. "Microsoft Graph application permission User.RevokeSessions.All". */
  permission?: string;
  vendorCodeOf?: VendorCodeOf;
}

/** Sends `config` with `Authorization: Bearer <token>` and validates the answer with `schema`. */
export async function bearerJson<S extends z.ZodType>(
  http: AxiosInstance,
  provider: string,
  tokens: BearerTokens,
  what: string,
  config: AxiosRequestConfig,
  schema: S,
  options: BearerCallOptions = {},
): Promise<z.infer<S>> {
  const send = (token: string) =>
    requestJson(
      http,
      provider,
      what,
      { ...config, headers: { ...(config.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` } },
      schema,
      options.vendorCodeOf,
    );
  const refused = (err: unknown): unknown => {
    if (err instanceof ConnectorAuthError) tokens.invalidate();
    return options.permission === undefined ? err : withPermissionHint(err, options.permission);
  };
  // The token endpoint's refusal is not the API's: the token is not dropped, only the permission is named.
  const token = await tokens.get().catch((err: unknown) => {
    throw options.permission === undefined ? err : withPermissionHint(err, options.permission);
  });
  try {
    return await send(token);
  } catch (err) {
    if (!(err instanceof ConnectorAuthError && err.status === 401)) throw refused(err);
    tokens.invalidate();
  }
  const renewed = await tokens.get().catch((err: unknown) => {
    throw options.permission === undefined ? err : withPermissionHint(err, options.permission);
  });
  try {
    return await send(renewed);
  } catch (err) {
    throw refused(err);
  }
}
