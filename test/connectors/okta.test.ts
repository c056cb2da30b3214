/** Okta Users API against a stand-in speaking Okta's wire format: lookups, groups, pagination, errors, rate limits. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ConnectorAuthError, ConnectorInvalidResponseError, ConnectorRateLimitedError } from '../../src/connectors/errors';
import { OktaClient, type OktaClientOptions } from '../../src/connectors/okta/client';
import { employmentStatusOf, OktaDirectory, type OktaDirectoryOptions } from '../../src/connectors/okta/directory';
import { StandIn } from '../fakes/stand-in';

const TOKEN = '00aBcDeFgHiJkLmNoPqRsTuVwXyZ-okta-api-token';

function oktaUser(overrides: { status?: string; profile?: Record<string, unknown> } = {}) {
  return {
    id: '00u1abcdEFGHijkl0x7',
    status: overrides.status ?? 'ACTIVE',
    created: '2024-01-10T09:00:00.000Z',
    activated: '2024-01-10T09:05:00.000Z',
    statusChanged: '2024-01-10T09:05:00.000Z',
    lastLogin: '2026-11-27T08:00:00.000Z',
    lastUpdated: '2026-11-01T08:00:00.000Z',
    passwordChanged: '2026-06-01T08:00:00.000Z',
    type: { id: 'oty1abcd' },
    profile: {
      firstName: 'Jane',
      lastName: 'Doe',
      email: 'jdoe@acme.com',
      login: 'jdoe@acme.com',
      mobilePhone: null,
      department: 'Finance',
      title: 'Financial Analyst',
      managerId: 'mmanager@acme.com',
      timezone: 'Europe/Berlin',
      ...overrides.profile,
    },
    credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
    _links: { self: { href: 'https://acme.okta.com/api/v1/users/00u1abcdEFGHijkl0x7' } },
  };
}

const group = (id: string, name: string) => ({
  id,
  created: '2024-01-01T00:00:00.000Z',
  lastUpdated: '2024-01-01T00:00:00.000Z',
  lastMembershipUpdated: '2026-01-01T00:00:00.000Z',
  objectClass: ['okta:user_group'],
  type: 'OKTA_GROUP',
  profile: { name, description: null },
  _links: {},
});

/** The directory over its own Okta client, both from one set of options. */
const directory = (options: OktaClientOptions & OktaDirectoryOptions) => new OktaDirectory(new OktaClient(options), options);

describe('Okta directory (Users API)', () => {
  const okta = new StandIn();
  let options: OktaClientOptions & OktaDirectoryOptions;

  before(async () => {
    await okta.start();
  });
  after(() => okta.stop());
  beforeEach(() => {
    okta.requests.length = 0;
    options = {
      orgUrl: okta.url,
      auth: { type: 'ssws', token: TOKEN },
      timeoutMs: 2000,
      loginSuffix: '@acme.com',
      cloudStorageGroups: ['Cloud Storage Users'],
      profile: {
        department: 'department',
        title: 'title',
        manager: 'managerId',
        timezone: 'timezone',
        employmentStatus: 'employmentStatus',
      },
      defaultTimezone: 'UTC',
    };
    okta
      .on('GET', '/api/v1/users/jdoe%40acme.com', () => ({ body: oktaUser() }))
      .on('GET', '/api/v1/users/00u1abcdEFGHijkl0x7/groups', (req) =>
        req.query.get('after') === null
          ? {
              headers: {
                link: `<${okta.url}/api/v1/users/00u1abcdEFGHijkl0x7/groups?limit=200>; rel="self", <${okta.url}/api/v1/users/00u1abcdEFGHijkl0x7/groups?after=00g2&limit=200>; rel="next"`,
              },
              body: [group('00g1', 'Everyone'), group('00g2', 'finance')],
            }
          : { body: [group('00g3', 'Cloud Storage Users')] },
      );
  });

  test('maps the profile, follows group pagination, and authorizes by group membership', async () => {
    const finding = await directory(options).lookupUser('jdoe');
    assert.deepEqual(finding, {
      user: 'jdoe',
      displayName: 'Jane Doe',
      department: 'Finance',
      title: 'Financial Analyst',
      groups: ['Everyone', 'finance', 'Cloud Storage Users'],
      employmentStatus: 'active',
      manager: 'mmanager',
      timezone: 'Europe/Berlin',
      cloudStorageAuthorized: true,
    });
    const [user, page1, page2] = okta.requests;
    assert.equal(user?.path, '/api/v1/users/jdoe%40acme.com');
    assert.equal(user?.headers.authorization, `SSWS ${TOKEN}`);
    assert.equal(user?.headers.accept, 'application/json');
    assert.equal(page1?.query.get('limit'), '200');
    assert.equal(page2?.query.get('after'), '00g2');
    assert.equal(page2?.headers.authorization, `SSWS ${TOKEN}`);
  });

  test('an OAuth access token is sent as a bearer token', async () => {
    await directory({ ...options, auth: { type: 'bearer', token: 'eyJ.access.token' } }).lookupUser('jdoe');
    assert.equal(okta.requests[0]?.headers.authorization, 'Bearer eyJ.access.token');
  });

  test('without the group, the user is not authorized for cloud storage', async () => {
    const finding = await directory({ ...options, cloudStorageGroups: ['Box Pilot'] }).lookupUser('jdoe');
    assert.equal(finding?.cloudStorageAuthorized, false);
  });

  test('a user Okta does not know (E0000007) is no record', async () => {
    okta.on('GET', '/api/v1/users/ghost%40acme.com', () => ({
      status: 404,
      body: {
        errorCode: 'E0000007',
        errorSummary: 'Not found: Resource not found: ghost@acme.com (User)',
        errorLink: 'E0000007',
        errorId: 'oae1',
        errorCauses: [],
      },
    }));
    assert.equal(await directory(options).lookupUser('ghost'), null);
  });

  test("an invalid token (E0000011) is an auth error with Okta's summary and without the token", async () => {
    okta.on('GET', '/api/v1/users/jdoe%40acme.com', () => ({
      status: 401,
      body: { errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorLink: 'E0000011', errorId: 'oae2', errorCauses: [] },
    }));
    await assert.rejects(directory(options).lookupUser('jdoe'), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(err.message, /^okta: get user jdoe@acme\.com: HTTP 401 .*E0000011.*Invalid token provided/);
      assert.ok(!err.message.includes(TOKEN));
      return true;
    });
  });

  test('a rate limit (E0000047) carries the delay from X-Rate-Limit-Reset', async () => {
    const reset = Math.ceil(Date.now() / 1000) + 30;
    okta.on('GET', '/api/v1/users/jdoe%40acme.com', () => ({
      status: 429,
      headers: { 'x-rate-limit-limit': '600', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
      body: { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.', errorCauses: [] },
    }));
    await assert.rejects(directory(options).lookupUser('jdoe'), (err: Error) => {
      assert.ok(err instanceof ConnectorRateLimitedError);
      assert.ok(err.retryAfterMs !== null && err.retryAfterMs > 25_000 && err.retryAfterMs <= 31_000, String(err.retryAfterMs));
      return true;
    });
  });

  test('a next-page link to another origin is refused', async () => {
    okta.on('GET', '/api/v1/users/00u1abcdEFGHijkl0x7/groups', () => ({
      headers: { link: '<https://evil.example/api/v1/users/x/groups?after=1>; rel="next"' },
      body: [group('00g1', 'Everyone')],
    }));
    await assert.rejects(directory(options).lookupUser('jdoe'), /next page link points to another origin/);
  });

  test('deactivated users are terminated, suspended users on leave, and the HR attribute is honoured', async () => {
    okta.on('GET', '/api/v1/users/jdoe%40acme.com', () => ({ body: oktaUser({ status: 'DEPROVISIONED' }) }));
    assert.equal((await directory(options).lookupUser('jdoe'))?.employmentStatus, 'terminated');
    okta.on('GET', '/api/v1/users/jdoe%40acme.com', () => ({ body: oktaUser({ status: 'SUSPENDED' }) }));
    assert.equal((await directory(options).lookupUser('jdoe'))?.employmentStatus, 'on-leave');
    okta.on('GET', '/api/v1/users/jdoe%40acme.com', () => ({ body: oktaUser({ profile: { employmentStatus: 'On Notice' } }) }));
    assert.equal((await directory(options).lookupUser('jdoe'))?.employmentStatus, 'on-notice');
  });

  test('employment status mapping table', () => {
    assert.equal(employmentStatusOf('ACTIVE', null), 'active');
    assert.equal(employmentStatusOf('LOCKED_OUT', null), 'active');
    assert.equal(employmentStatusOf('PASSWORD_EXPIRED', 'on_leave'), 'on-leave');
    assert.equal(employmentStatusOf('SUSPENDED', 'terminated'), 'terminated');
    assert.equal(employmentStatusOf('SUSPENDED', 'active'), 'on-leave');
    assert.equal(employmentStatusOf('DEPROVISIONED', 'active'), 'terminated');
    assert.throws(() => employmentStatusOf('ACTIVE', 'sabbatical'), /employment status "sabbatical" is not one of/);
    assert.throws(() => employmentStatusOf('ARCHIVED', null), ConnectorInvalidResponseError);
  });

  test('a missing or invalid time zone falls back to the organisation default', async () => {
    okta.on('GET', '/api/v1/users/jdoe%40acme.com', () => ({ body: oktaUser({ profile: { timezone: 'Mars/Olympus' } }) }));
    assert.equal((await directory({ ...options, defaultTimezone: 'America/New_York' }).lookupUser('jdoe'))?.timezone, 'America/New_York');
  });

  test('a response of the wrong shape is an invalid-response error naming the field', async () => {
    okta.on('GET', '/api/v1/users/jdoe%40acme.com', () => ({ body: { id: 'x', status: 'ACTIVE', profile: {} } }));
    await assert.rejects(directory(options).lookupUser('jdoe'), /unexpected response \(profile\.login: /);
  });
});
