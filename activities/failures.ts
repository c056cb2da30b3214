/**
 * The one place connector errors become Temporal's terms: non-retryable for auth, not-found, bad responses and bad
 * configuration; the provider's own delay for rate limits; a plain rethrow (retried with backoff) for transient
 * faults. The original error stays attached as the cause.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ConnectorError, ConnectorRateLimitedError } from '../src/connectors/errors';

export function toTemporalFailure(err: unknown): unknown {
  if (!(err instanceof ConnectorError)) return err;
  switch (err.kind) {
    case 'rate-limited': {
      const delay = (err as ConnectorRateLimitedError).retryAfterMs;
      return ApplicationFailure.create({
        message: err.message,
        type: err.name,
        cause: err,
        ...(delay !== null ? { nextRetryDelay: delay } : {}),
      });
    }
    case 'unavailable':
      return ApplicationFailure.retryable(err.message, err.name);
    default:
      return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true, cause: err });
  }
}

/** Wraps an activity so every failure leaves it in Temporal's vocabulary. */
export function translated<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw toTemporalFailure(err);
    }
  };
}
