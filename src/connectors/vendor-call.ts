/**
 * A vendor call that names the permission it needs: a 401/403 becomes a non-retryable auth error saying which
 * provider refused and which permission (scope, role) the credentials lack.
 */
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import type { z } from 'zod';
import { ConnectorAuthError } from './errors';
import { requestJson, type VendorCodeOf } from './http';

export function withPermissionHint(err: unknown, permission: string): unknown {
  if (!(err instanceof ConnectorAuthError)) return err;
  const prefix = `${err.provider}: `;
  const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  return new ConnectorAuthError(err.provider, `${message}; needs permission: ${permission}`, {
    cause: err.cause,
    status: err.status,
    vendorCode: err.vendorCode,
  });
}

export async function vendorJson<S extends z.ZodType>(
  client: AxiosInstance,
  provider: string,
  what: string,
  config: AxiosRequestConfig,
  schema: S,
  permission: string,
  vendorCodeOf?: VendorCodeOf,
): Promise<z.infer<S>> {
  try {
    return await requestJson(client, provider, what, config, schema, vendorCodeOf);
  } catch (err) {
    throw withPermissionHint(err, permission);
  }
}
