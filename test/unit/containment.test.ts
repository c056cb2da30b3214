/** Containment configuration, guard-rail matching, the token cache and the dry-run providers. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { toTemporalFailure } from '../../activities/failures';
import { ConfigError, parseConfig, sanitizeConfig, secretsOf } from '../../src/config';
import {
  ConnectorActionFailedError,
  ConnectorAuthError,
  ConnectorRateLimitedError,
  ConnectorUnavailableError,
} from '../../src/connectors/errors';
import { DryRunContainment } from '../../src/connectors/dry-run/client';
import { CachedToken } from '../../src/connectors/oauth2';
import { containmentPolicy } from '../../src/temporal/playbook-runs';
import { matchesProtected, matchesProtectedAccount } from '../../workflows/guard-rails';
import { rawTestConfig, tempDir } from '../helpers/fixtures';
import { actionContext } from '../helpers/action-context';

function withContainment(containment: unknown, vendors: unknown = {}, playbook?: unknown) {
  const raw = rawTestConfig() as Record<string, unknown> & { playbook: Record<string, unknown> };
  raw.containment = containment;
  raw.vendors = vendors;
  if (playbook) raw.playbook.containment = playbook;
  return raw;
}

describe('containment configuration', () => {
  test('defaults to dry-run everywhere, release window and lease off', () => {
    const config = parseConfig(rawTestConfig(), {});
    assert.equal(config.containment.isolation.provider, 'dry-run');
    assert.deepEqual(config.containment.access.providers, ['dry-run']);
    const policy = containmentPolicy(config);
    assert.equal(policy.releaseWindowMs, 0);
    assert.equal(policy.leaseMs, 0);
    assert.equal(policy.maxDevicesPerRun, 1);
  });

  test('a selected provider without its vendor block is refused, naming the key', () => {
    assert.throws(
      () => parseConfig(withContainment({ isolation: { provider: 'crowdstrike' }, access: { providers: ['okta', 'dropbox'] } }), {}),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.details, [
          'vendors.crowdstrike: required when containment.isolation.provider is crowdstrike',
          'vendors.okta: required when containment.access.providers lists okta',
          'vendors.dropbox: required when containment.access.providers lists dropbox',
        ]);
        return true;
      },
    );
  });

  test('secrets come from env: references, are listed for redaction and never appear in the sanitized view', () => {
    const env = { CS: 'cs-secret-1', OKTA: 'okta-secret-2', GKEY: '{"type":"service_account"}', DBX: 'dbx-secret-3' };
    const config = parseConfig(
      withContainment(
        {
          isolation: { provider: 'crowdstrike' },
          access: {
            providers: ['okta', 'google-workspace', 'dropbox'],
            okta: { userTemplate: '{user}@acme.com' },
            googleWorkspace: { userTemplate: '{user}@acme.com' },
            dropbox: { userTemplate: '{user}@acme.com' },
          },
        },
        {
          crowdstrike: { clientId: 'id', clientSecret: 'env:CS' },
          okta: { orgUrl: 'https://acme.okta.com', auth: { type: 'ssws', token: 'env:OKTA' } },
          googleWorkspace: { serviceAccountKey: 'env:GKEY', subject: 'admin@acme.com' },
          dropbox: { accessToken: 'env:DBX' },
        },
        { protectedAccounts: ['ceo'], releaseWindow: '7d', lease: '24h' },
      ),
      env,
    );
    assert.equal(config.vendors.crowdstrike?.clientSecret, 'cs-secret-1');
    assert.equal(config.vendors.crowdstrike?.baseUrl, 'https://api.crowdstrike.com');
    for (const secret of Object.values(env)) {
      assert.ok(secretsOf(config).includes(secret));
      assert.ok(!JSON.stringify(sanitizeConfig(config)).includes(secret), `sanitized view leaks ${secret}`);
    }
    const policy = containmentPolicy(config);
    assert.equal(policy.releaseWindowMs, 7 * 86_400_000);
    assert.equal(policy.leaseMs, 86_400_000);
    assert.deepEqual(policy.accessProviders, ['okta', 'google-workspace', 'dropbox']);
    assert.equal(policy.isolationProvider, 'crowdstrike');
  });

  test('a user template without {user} and a duplicated provider are refused', () => {
    assert.throws(
      () =>
        parseConfig(
          withContainment(
            { access: { providers: ['dropbox', 'dropbox'], dropbox: { userTemplate: 'someone@acme.com' } } },
            { dropbox: { accessToken: 'x' } },
          ),
          {},
        ),
      (err: Error) =>
        err instanceof ConfigError &&
        err.details.includes('containment.access.dropbox.userTemplate: must contain {user}') &&
        err.details.includes('containment.access.providers: lists a provider twice'),
    );
  });

  test('Okta session revocation needs an SSWS API token', () => {
    assert.throws(
      () =>
        parseConfig(
          withContainment(
            { access: { providers: ['okta'] } },
            { okta: { orgUrl: 'https://acme.okta.com', auth: { type: 'bearer', token: 't' } } },
          ),
          {},
        ),
      (err: ConfigError) => {
        assert.deepEqual(err.details, [
          'vendors.okta.auth.type: must be ssws when containment.access.providers lists okta (session revocation needs an admin API token)',
        ]);
        return true;
      },
    );
  });
});

describe('guard rails', () => {
  test('protected names match exactly or by * wildcard, case-insensitively, and nothing else', () => {
    assert.equal(matchesProtected('DC-01', ['dc-*']), 'dc-*');
    assert.equal(matchesProtected('xdc-01', ['dc-*']), null);
    assert.equal(matchesProtected('ceo', ['CEO']), 'CEO');
    assert.equal(matchesProtected('ceo2', ['ceo']), null);
    assert.equal(matchesProtected('breakglass-admin', ['*-admin']), '*-admin');
    assert.equal(matchesProtected('axb', ['a.b']), null, 'regex characters are literal');
    assert.equal(matchesProtected('anything', []), null);
  });
});

describe('token cache', () => {
  test('reuses a token until a minute before expiry, then fetches one; concurrent callers share one request', async () => {
    let now = 0;
    let fetched = 0;
    const cache = new CachedToken(
      () => {
        fetched++;
        return Promise.resolve({ accessToken: `t${fetched}`, expiresInSeconds: 600 });
      },
      { now: () => now },
    );
    assert.deepEqual(await Promise.all([cache.get(), cache.get()]), ['t1', 't1']);
    now = 539_000;
    assert.equal(await cache.get(), 't1');
    now = 541_000;
    assert.equal(await cache.get(), 't2');
    cache.invalidate();
    assert.equal(await cache.get(), 't3');
    assert.equal(fetched, 3);
  });
});

describe('dry-run containment', () => {
  test('records each action once per run and says simulated', async () => {
    const dry = new DryRunContainment(tempDir());
    const target = { workflowId: 'wf-9', host: 'H1', maxDevices: 1 };
    const first = await dry.isolation.isolate(target, actionContext());
    const again = await dry.isolation.isolate(target, actionContext());
    assert.equal(first.status, 'simulated');
    assert.deepEqual(again, first);
    await dry.access.revoke({ workflowId: 'wf-9', user: 'jdoe', destDomain: 'dropbox.com' }, actionContext());
    await dry.isolation.release(target, actionContext());
    assert.deepEqual(
      (await dry.entries()).map((e) => e.key),
      ['wf-9:isolate-endpoint', 'wf-9:revoke-cloud-storage-access', 'wf-9:lift-endpoint-isolation'],
    );
  });
});

describe('containment errors in Temporal terms', () => {
  test('action failed and auth are not retried; rate limits carry the vendor delay; unavailable is retried', () => {
    const failed = toTemporalFailure(new ConnectorActionFailedError('sentinelone', 'affected: 0'));
    assert.ok(failed instanceof ApplicationFailure && failed.nonRetryable);
    const auth = toTemporalFailure(new ConnectorAuthError('okta', 'HTTP 403'));
    assert.ok(auth instanceof ApplicationFailure && auth.nonRetryable);
    const limited = toTemporalFailure(new ConnectorRateLimitedError('okta', 'HTTP 429', 20_000));
    assert.ok(limited instanceof ApplicationFailure && !limited.nonRetryable);
    assert.equal(limited.nextRetryDelay, 20_000);
    const down = toTemporalFailure(new ConnectorUnavailableError('crowdstrike', 'HTTP 503'));
    assert.ok(down instanceof ApplicationFailure && !down.nonRetryable);
  });
});

describe('protected accounts, whatever form names them', () => {
  const org = { domains: ['corp.example'], netbiosNames: ['CORP'] };
  test('a pattern written as a UPN or a down-level name protects the canonical account', () => {
    assert.equal(matchesProtectedAccount('ceo', undefined, ['ceo@corp.example'], org), 'ceo@corp.example');
    assert.equal(matchesProtectedAccount('breakglass-1', 'CORP\\breakglass-1', ['CORP\\breakglass-*'], org), 'CORP\\breakglass-*');
  });
  test("the SIEM's own form is matched against the patterns as written", () => {
    assert.equal(matchesProtectedAccount('svc', 'svc@legacy.example', ['*@legacy.example'], org), '*@legacy.example');
  });
  test('an account of another domain is not protected by the organisation pattern of the same name', () => {
    assert.equal(matchesProtectedAccount('ceo@partner.example', undefined, ['ceo@corp.example'], org), null);
  });
  test('runs without the organisation snapshot compare exactly as before', () => {
    assert.equal(matchesProtectedAccount('ceo', 'CORP\\ceo', ['ceo@corp.example'], undefined), null);
    assert.equal(matchesProtectedAccount('CEO', undefined, ['ceo'], undefined), 'ceo');
  });
});
