/**
 * The connectors' error vocabulary. Connectors throw these; activities (and only activities) translate them into
 * Temporal's terms. `XxxError` never crosses the Temporal boundary: see activities/failures.ts.
 */
export abstract class ConnectorError extends Error {
  abstract readonly kind: 'auth' | 'not-found' | 'rate-limited' | 'unavailable' | 'invalid-response' | 'configuration' | 'action-failed';
  /** The HTTP status the vendor answered with, when the failure was an HTTP answer. */
  readonly status: number | undefined;
  /** The vendor's own error code from its error envelope (Okta `E0000011`, Graph `Authorization_RequestDenied`, ...). */
  readonly vendorCode: string | undefined;
  constructor(
    readonly provider: string,
    message: string,
    options?: ConnectorErrorOptions,
  ) {
    super(`${provider}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options?.status;
    this.vendorCode = options?.vendorCode;
  }
}

export interface ConnectorErrorOptions {
  cause?: unknown;
  status?: number | undefined;
  vendorCode?: string | undefined;
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
    options?: ConnectorErrorOptions,
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
