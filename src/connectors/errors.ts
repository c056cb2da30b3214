/**
 * The connectors' error vocabulary. Connectors throw these; activities (and only activities) translate them into
 * Temporal's terms. `XxxError` never crosses the Temporal boundary: see activities/failures.ts.
 */
export abstract class ConnectorError extends Error {
  abstract readonly kind: 'auth' | 'not-found' | 'rate-limited' | 'unavailable' | 'invalid-response' | 'configuration' | 'action-failed';
  constructor(
    readonly provider: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${provider}: ${message}`, options);
    this.name = new.target.name;
  }
}

/** 401/403 or a missing permission: retrying will not help. */
export class ConnectorAuthError extends ConnectorError {
  readonly kind = 'auth';
}

/** The user, device or record does not exist at the provider. */
export class ConnectorNotFoundError extends ConnectorError {
  readonly kind = 'not-found';
}

/** The provider asked us to slow down; `retryAfterMs` is its own signal when it gave one. */
export class ConnectorRateLimitedError extends ConnectorError {
  readonly kind = 'rate-limited';
  constructor(
    provider: string,
    message: string,
    readonly retryAfterMs: number | null,
    options?: { cause?: unknown },
  ) {
    super(provider, message, options);
  }
}

/** 5xx, timeouts, connection failures: transient, retried with backoff. */
export class ConnectorUnavailableError extends ConnectorError {
  readonly kind = 'unavailable';
}

/** The provider answered with something we could not validate: not retried, it will not fix itself. */
export class ConnectorInvalidResponseError extends ConnectorError {
  readonly kind = 'invalid-response';
}

/** Our own configuration or data file is wrong. */
export class ConnectorConfigurationError extends ConnectorError {
  readonly kind = 'configuration';
}

/** The vendor accepted the request but reports that the action itself failed (e.g. a machine action `Failed`). */
export class ConnectorActionFailedError extends ConnectorError {
  readonly kind = 'action-failed';
}
