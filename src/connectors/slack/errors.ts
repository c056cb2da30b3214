/**
 * Slack's failures in the connector vocabulary. The Web API answers HTTP 200 with `{ok: false, error}` for most
 * failures, and 429 with `Retry-After` (seconds) when rate limited; the client's own retry loop is off, so each of
 * these reaches here and Temporal retries with the right delay. Slack's error messages never contain the token.
 */
import { ErrorCode, type WebAPIHTTPError, type WebAPIPlatformError, type WebAPIRateLimitedError } from '@slack/web-api';
import {
  ConnectorAuthError,
  ConnectorConfigurationError,
  ConnectorError,
  ConnectorInvalidResponseError,
  ConnectorNotFoundError,
  ConnectorRateLimitedError,
  ConnectorUnavailableError,
} from '../errors';

export const PROVIDER = 'slack';

const AUTH = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'ekm_access_denied',
  'team_access_not_granted',
]);
const NOT_FOUND = new Set(['channel_not_found', 'user_not_found', 'no_such_subteam', 'subteam_not_found', 'message_not_found']);
const CONFIGURATION = new Set([
  'not_in_channel',
  'is_archived',
  'restricted_action',
  'invalid_blocks',
  'invalid_arguments',
  'msg_too_long',
]);
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

/** Maps anything the Slack client throws to a ConnectorError naming the method. */
export function toSlackConnectorError(method: string, err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  switch (codeOf(err)) {
    case ErrorCode.RateLimitedError: {
      const retryAfter = (err as WebAPIRateLimitedError).retryAfter;
      return new ConnectorRateLimitedError(PROVIDER, `${method}: rate limited, retry after ${retryAfter}s`, retryAfter * 1000, {
        cause: err,
      });
    }
    case ErrorCode.PlatformError: {
      const error = String((err as WebAPIPlatformError).data.error ?? 'unknown_error');
      const detail = `${method}: ${error}`;
      if (error === 'ratelimited') return new ConnectorRateLimitedError(PROVIDER, detail, null, { cause: err });
      if (AUTH.has(error)) return new ConnectorAuthError(PROVIDER, `${detail} (check the bot token and the app's scopes)`, { cause: err });
      if (NOT_FOUND.has(error)) return new ConnectorNotFoundError(PROVIDER, detail, { cause: err });
      if (CONFIGURATION.has(error)) return new ConnectorConfigurationError(PROVIDER, detail, { cause: err });
      if (TRANSIENT.has(error)) return new ConnectorUnavailableError(PROVIDER, detail, { cause: err });
      return new ConnectorInvalidResponseError(PROVIDER, detail, { cause: err });
    }
    case ErrorCode.HTTPError: {
      const status = (err as WebAPIHTTPError).statusCode;
      const detail = `${method}: HTTP ${status}`;
      if (status >= 500 || status === 408) return new ConnectorUnavailableError(PROVIDER, detail, { cause: err });
      if (status === 401 || status === 403) return new ConnectorAuthError(PROVIDER, detail, { cause: err });
      return new ConnectorInvalidResponseError(PROVIDER, detail, { cause: err });
    }
    default:
      // Request errors (connection refused, timeouts) and anything unexpected: transient.
      return new ConnectorUnavailableError(PROVIDER, `${method}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}
