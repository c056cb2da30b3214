/**
 * Intune managed devices through Microsoft Graph, with the client-credentials token from a stand-in of the Microsoft
 * identity platform: filter encoding, mapping, token caching and renewal, Graph and token error bodies, rate limits.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ConnectorAuthError, ConnectorRateLimitedError, ConnectorUnavailableError } from '../../src/connectors/errors';
import { EntraApp, entraTokenUrl } from '../../src/connectors/microsoft-entra/client';
import { GraphClient } from '../../src/connectors/microsoft-graph/client';
import { IntuneDeviceInventory, type IntuneDeviceOptions } from '../../src/connectors/microsoft-graph/intune-devices';
import { StandIn } from '../fakes/stand-in';

const TENANT = 'acme.onmicrosoft.com';
const TOKEN_PATH = `/${TENANT}/oauth2/v2.0/token`;
const DEVICES_PATH = '/v1.0/deviceManagement/managedDevices';
const SECRET = 'graph~client~secret~value';

function device(overrides: Record<string, unknown> = {}) {
  return {
    id: '0f5e3b4c-1111-2222-3333-444455556666',
    deviceName: 'LAPTOP-JD01',
    complianceState: 'compliant',
    managementAgent: 'mdm',
    managedDeviceOwnerType: 'company',
    userPrincipalName: 'jdoe@acme.com',
    lastSyncDateTime: '2026-11-27T22:10:00Z',
    operatingSystem: 'Windows',
    ...overrides,
  };
}

interface IntuneTestOptions extends IntuneDeviceOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  authorityUrl: string;
  graphUrl: string;
  timeoutMs: number;
  refreshBeforeExpiryMs?: number;
  now?: () => number;
}

/** The inventory over a Graph client and an Entra app of its own, all from one set of options. */
function intune(o: IntuneTestOptions): IntuneDeviceInventory {
  const app = new EntraApp({
    tokenUrl: entraTokenUrl(o.tenantId, o.authorityUrl),
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    timeoutMs: o.timeoutMs,
    refreshMarginMs: o.refreshBeforeExpiryMs,
    now: o.now,
  });
  return new IntuneDeviceInventory(new GraphClient(app, { graphUrl: o.graphUrl, timeoutMs: o.timeoutMs }), o);
}

describe('Intune device inventory (Microsoft Graph)', () => {
  const login = new StandIn();
  const graph = new StandIn();
  let options: IntuneTestOptions;
  let issued = 0;

  before(async () => {
    await Promise.all([login.start(), graph.start()]);
  });
  after(() => Promise.all([login.stop(), graph.stop()]));
  beforeEach(() => {
    login.requests.length = 0;
    graph.requests.length = 0;
    issued = 0;
    options = {
      tenantId: TENANT,
      clientId: '11111111-2222-3333-4444-555555555555',
      clientSecret: SECRET,
      authorityUrl: login.url,
      graphUrl: graph.url,
      timeoutMs: 2000,
      allowedComplianceStates: ['compliant'],
      requireCorporateOwned: true,
    };
    login.on('POST', TOKEN_PATH, () => {
      issued++;
      return { body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: `token-${issued}` } };
    });
    graph.on('GET', DEVICES_PATH, (req) => {
      const filter = req.query.get('$filter');
      if (req.headers.authorization !== `Bearer token-${issued}`) {
        return {
          status: 401,
          body: {
            error: {
              code: 'InvalidAuthenticationToken',
              message: 'Access token has expired or is not yet valid.',
              innerError: { date: '2026-11-28T01:14:00', 'request-id': 'r1' },
            },
          },
        };
      }
      return {
        body: {
          '@odata.context': `${graph.url}/v1.0/$metadata#deviceManagement/managedDevices`,
          value: filter === "deviceName eq 'LAPTOP-JD01'" ? [device()] : [],
        },
      };
    });
  });

  test('asks for a client-credentials token with the documented form, then filters managed devices by name', async () => {
    const finding = await intune(options).lookupDevice('LAPTOP-JD01');
    assert.deepEqual(finding, {
      host: 'LAPTOP-JD01',
      managed: true,
      owner: 'jdoe@acme.com',
      cloudStorageAllowed: true,
      detail: 'Intune: managementAgent mdm, complianceState compliant, owner type company, last sync 2026-11-27T22:10:00Z',
    });
    const [tokenRequest] = login.requests;
    assert.equal(tokenRequest?.headers['content-type'], 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(tokenRequest?.body);
    assert.deepEqual(Object.fromEntries(form), {
      client_id: '11111111-2222-3333-4444-555555555555',
      client_secret: SECRET,
      scope: `${graph.url}/.default`,
      grant_type: 'client_credentials',
    });
    const [lookup] = graph.requests;
    assert.equal(lookup?.headers.authorization, 'Bearer token-1');
    assert.equal(
      lookup?.query.get('$select'),
      'id,deviceName,complianceState,managementAgent,managedDeviceOwnerType,userPrincipalName,lastSyncDateTime,operatingSystem',
    );
  });

  test('quotes in a device name are doubled, and spaces are sent as %20', async () => {
    const inventory = intune(options);
    assert.equal(await inventory.lookupDevice("O'Brien's PC"), null);
    const req = graph.requests[0];
    assert.equal(req?.query.get('$filter'), "deviceName eq 'O''Brien''s PC'");
  });

  test('one token serves several lookups, including concurrent ones', async () => {
    const inventory = intune(options);
    await Promise.all([inventory.lookupDevice('LAPTOP-JD01'), inventory.lookupDevice('LAPTOP-JD01')]);
    await inventory.lookupDevice('LAPTOP-JD01');
    assert.equal(login.requests.length, 1);
    assert.equal(graph.requests.length, 3);
  });

  test('the token is renewed shortly before it expires', async () => {
    let now = Date.parse('2026-11-28T00:00:00Z');
    const inventory = intune({ ...options, now: () => now, refreshBeforeExpiryMs: 5 * 60_000 });
    await inventory.lookupDevice('LAPTOP-JD01');
    now += 3599_000 - 5 * 60_000 - 1000; // a second before the renewal margin
    await inventory.lookupDevice('LAPTOP-JD01');
    assert.equal(login.requests.length, 1);
    now += 2000; // inside the margin
    await inventory.lookupDevice('LAPTOP-JD01');
    assert.equal(login.requests.length, 2);
    assert.equal(graph.requests.at(-1)?.headers.authorization, 'Bearer token-2');
  });

  test('a token Graph rejects is renewed once and the request retried', async () => {
    const inventory = intune(options);
    await inventory.lookupDevice('LAPTOP-JD01');
    issued++; // the identity platform rotated: the cached token-1 is now rejected
    login.on('POST', TOKEN_PATH, () => ({ body: { token_type: 'Bearer', expires_in: 3599, access_token: `token-${issued}` } }));
    const finding = await inventory.lookupDevice('LAPTOP-JD01');
    assert.equal(finding?.managed, true);
    assert.deepEqual(
      graph.requests.map((r) => r.headers.authorization),
      ['Bearer token-1', 'Bearer token-1', 'Bearer token-2'],
    );
  });

  test('a wrong client secret is an auth error with the AADSTS reason and without the secret', async () => {
    login.on('POST', TOKEN_PATH, () => ({
      status: 401,
      body: {
        error: 'invalid_client',
        error_description:
          'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 1\r\nCorrelation ID: 2',
        error_codes: [7000215],
        timestamp: '2026-11-28 01:14:00Z',
        trace_id: '1',
        correlation_id: '2',
      },
    }));
    await assert.rejects(intune(options).lookupDevice('LAPTOP-JD01'), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(
        err.message,
        /^microsoft-graph: get an access token \(client credentials\): invalid_client: AADSTS7000215: Invalid client secret provided\./,
      );
      assert.ok(!err.message.includes(SECRET));
      return true;
    });
    assert.equal(graph.requests.length, 0);
  });

  test("a missing Graph permission (403 Authorization_RequestDenied) is an auth error with Graph's code", async () => {
    graph.on('GET', DEVICES_PATH, () => ({
      status: 403,
      body: {
        error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.', innerError: {} },
      },
    }));
    await assert.rejects(
      intune(options).lookupDevice('LAPTOP-JD01'),
      (err: Error) =>
        err instanceof ConnectorAuthError && /HTTP 403 .*Authorization_RequestDenied.*Insufficient privileges/.test(err.message),
    );
  });

  test('throttling (429 with Retry-After) carries the delay; 503 is unavailable', async () => {
    graph.on('GET', DEVICES_PATH, () => ({
      status: 429,
      headers: { 'retry-after': '4' },
      body: { error: { code: 'TooManyRequests', message: 'Too many requests.' } },
    }));
    await assert.rejects(
      intune(options).lookupDevice('LAPTOP-JD01'),
      (err: Error) => err instanceof ConnectorRateLimitedError && err.retryAfterMs === 4000,
    );
    graph.on('GET', DEVICES_PATH, () => ({
      status: 503,
      body: { error: { code: 'serviceNotAvailable', message: 'Service unavailable' } },
    }));
    await assert.rejects(intune(options).lookupDevice('LAPTOP-JD01'), ConnectorUnavailableError);
  });

  test('compliance, management agent and ownership decide; the most recently synced duplicate wins', async () => {
    const answer = (value: unknown[]) => graph.on('GET', DEVICES_PATH, () => ({ body: { value } }));
    const inventory = intune(options);
    answer([device({ complianceState: 'noncompliant' })]);
    assert.deepEqual(
      [(await inventory.lookupDevice('LAPTOP-JD01'))?.managed, (await inventory.lookupDevice('LAPTOP-JD01'))?.cloudStorageAllowed],
      [true, false],
    );
    answer([device({ managementAgent: 'eas' })]);
    assert.equal((await inventory.lookupDevice('LAPTOP-JD01'))?.managed, false);
    answer([device({ managedDeviceOwnerType: 'personal' })]);
    assert.equal((await inventory.lookupDevice('LAPTOP-JD01'))?.cloudStorageAllowed, false);
    assert.equal((await intune({ ...options, requireCorporateOwned: false }).lookupDevice('LAPTOP-JD01'))?.cloudStorageAllowed, true);
    answer([
      device({ id: 'old', complianceState: 'compliant', lastSyncDateTime: '2026-01-01T00:00:00Z' }),
      device({ id: 'new', complianceState: 'noncompliant', lastSyncDateTime: '2026-11-27T00:00:00Z' }),
    ]);
    assert.equal((await inventory.lookupDevice('laptop-jd01'))?.cloudStorageAllowed, false);
  });

  test('follows @odata.nextLink on the Graph host only', async () => {
    graph.on('GET', DEVICES_PATH, (req) =>
      req.query.get('$skiptoken') === null
        ? { body: { value: [], '@odata.nextLink': `${graph.url}${DEVICES_PATH}?$skiptoken=abc` } }
        : { body: { value: [device()] } },
    );
    assert.equal((await intune(options).lookupDevice('LAPTOP-JD01'))?.managed, true);
    graph.on('GET', DEVICES_PATH, () => ({ body: { value: [], '@odata.nextLink': `https://evil.example${DEVICES_PATH}?$skiptoken=abc` } }));
    await assert.rejects(intune(options).lookupDevice('LAPTOP-JD01'), /refusing to send the token to https:\/\/evil\.example/);
  });
});
