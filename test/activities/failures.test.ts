/** Connector errors become Temporal failures in one place: retryable or not, and with the vendor's delay. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { toTemporalFailure } from '../../activities/failures';
import {
  ConnectorAuthError,
  ConnectorConfigurationError,
  ConnectorInvalidResponseError,
  ConnectorNotFoundError,
  ConnectorRateLimitedError,
  ConnectorUnavailableError,
} from '../../src/connectors/errors';

const failure = (err: Error): ApplicationFailure => {
  const f = toTemporalFailure(err);
  assert.ok(f instanceof ApplicationFailure, `expected an ApplicationFailure for ${err.name}`);
  return f;
};

describe('connector errors in Temporal terms', () => {
  test('auth, not-found, invalid responses and configuration are not retried', () => {
    for (const err of [
      new ConnectorAuthError('okta', 'HTTP 401'),
      new ConnectorNotFoundError('okta', 'HTTP 404'),
      new ConnectorInvalidResponseError('okta', 'bad body'),
      new ConnectorConfigurationError('local-files', 'bad file'),
    ]) {
      const f = failure(err);
      assert.equal(f.nonRetryable, true, err.name);
      assert.equal(f.type, err.name);
      assert.equal(f.message, err.message);
      assert.equal(f.cause, err);
    }
  });

  test("a rate limit is retried after the vendor's delay", () => {
    const f = failure(new ConnectorRateLimitedError('microsoft-graph', 'HTTP 429', 4000));
    assert.equal(f.nonRetryable, false);
    assert.equal(f.nextRetryDelay, 4000);
  });

  test('a rate limit without a delay falls back to the retry policy', () => {
    const f = failure(new ConnectorRateLimitedError('elasticsearch', 'HTTP 429', null));
    assert.equal(f.nonRetryable, false);
    assert.equal(f.nextRetryDelay, undefined);
  });

  test('unavailable is retried with backoff', () => {
    const f = failure(new ConnectorUnavailableError('servicenow', 'HTTP 503'));
    assert.equal(f.nonRetryable, false);
    assert.equal(f.type, 'ConnectorUnavailableError');
  });

  test('anything else passes through untouched', () => {
    const err = new TypeError('bug');
    assert.equal(toTemporalFailure(err), err);
  });
});
