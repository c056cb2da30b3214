/** ServiceNow Table API (change_request) against a stand-in speaking its wire format: query, paging, mapping, errors. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  ConnectorAuthError,
  ConnectorInvalidResponseError,
  ConnectorRateLimitedError,
  ConnectorUnavailableError,
} from '../../src/connectors/errors';
import { ServiceNowChangeRecords, type ServiceNowChangeOptions } from '../../src/connectors/servicenow/change-requests';
import { StandIn } from '../fakes/stand-in';

const PATH = '/api/now/table/change_request';
const WINDOW = { since: '2026-08-30T01:14:00.000Z', until: '2026-11-28T01:14:00.000Z' };

function change(overrides: Record<string, string> = {}) {
  return {
    sys_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    number: 'CHG0030001',
    short_description: 'Finance pilots Dropbox for the year-end audit',
    state: '-1',
    approval: 'approved',
    start_date: '2026-11-01 00:00:00',
    end_date: '2026-12-31 23:59:59',
    u_change_kind: 'pilot',
    u_covered_users: '',
    u_covered_groups: 'finance, auditors',
    u_covered_domains: 'dropbox.com\ndropboxapi.com',
    ...overrides,
  };
}

describe('ServiceNow change records (Table API)', () => {
  const snow = new StandIn();
  let options: ServiceNowChangeOptions;

  before(async () => {
    await snow.start();
  });
  after(() => snow.stop());
  beforeEach(() => {
    snow.requests.length = 0;
    options = {
      instanceUrl: snow.url,
      auth: { type: 'basic', username: 'soar.integration', password: 'p@ss:w0rd-secret' },
      timeoutMs: 2000,
      query: 'u_cloud_storage=true',
      fields: { kind: 'u_change_kind', users: 'u_covered_users', groups: 'u_covered_groups', domains: 'u_covered_domains' },
      defaultKind: 'configuration-change',
      pageSize: 2,
      maxRecords: 1000,
    };
    snow.on('GET', PATH, () => ({ body: { result: [change()] } }));
  });

  test('sends the encoded query, fields and paging the Table API documents, with basic auth', async () => {
    await new ServiceNowChangeRecords(options).listCloudStorageChanges(WINDOW);
    const [req] = snow.requests;
    assert.equal(req?.headers.authorization, `Basic ${Buffer.from('soar.integration:p@ss:w0rd-secret').toString('base64')}`);
    assert.equal(
      req?.query.get('sysparm_query'),
      'u_cloud_storage=true^start_date<=2026-11-28 01:14:00^end_date>=2026-08-30 01:14:00^ORend_dateISEMPTY^ORDERBYstart_date',
    );
    assert.equal(
      req?.query.get('sysparm_fields'),
      'sys_id,number,short_description,state,approval,start_date,end_date,u_change_kind,u_covered_users,u_covered_groups,u_covered_domains',
    );
    assert.equal(req?.query.get('sysparm_limit'), '2');
    assert.equal(req?.query.get('sysparm_offset'), '0');
    assert.equal(req?.query.get('sysparm_display_value'), 'false');
    assert.equal(req?.query.get('sysparm_exclude_reference_link'), 'true');
  });

  test('maps a change request to a policy change record', async () => {
    const records = await new ServiceNowChangeRecords(options).listCloudStorageChanges(WINDOW);
    assert.deepEqual(records, [
      {
        id: 'CHG0030001',
        kind: 'pilot',
        title: 'Finance pilots Dropbox for the year-end audit',
        approved: true,
        users: [],
        groups: ['finance', 'auditors'],
        domains: ['dropbox.com', 'dropboxapi.com'],
        validFrom: '2026-11-01T00:00:00Z',
        validTo: '2026-12-31T23:59:59Z',
      },
    ]);
  });

  test('pages with sysparm_offset until a short page', async () => {
    snow.on('GET', PATH, (req) => {
      const offset = Number(req.query.get('sysparm_offset'));
      const all = [change({ number: 'CHG1' }), change({ number: 'CHG2' }), change({ number: 'CHG3' })];
      return { body: { result: all.slice(offset, offset + Number(req.query.get('sysparm_limit'))) } };
    });
    const records = await new ServiceNowChangeRecords(options).listCloudStorageChanges(WINDOW);
    assert.deepEqual(
      records.map((r) => r.id),
      ['CHG1', 'CHG2', 'CHG3'],
    );
    assert.deepEqual(
      snow.requests.map((r) => r.query.get('sysparm_offset')),
      ['0', '2'],
    );
  });

  test('only approved, not cancelled changes count as approved; an open end is null; an empty kind takes the default', async () => {
    snow.on('GET', PATH, () => ({
      body: {
        result: [
          change({ number: 'CHG-REQ', approval: 'requested' }),
          change({ number: 'CHG-CAN', state: '4' }),
          change({ number: 'CHG-OPEN', end_date: '', u_change_kind: '' }),
          change({ number: 'CHG-EXC', u_change_kind: 'Exception', u_covered_users: 'jdoe;asmith' }),
        ],
      },
    }));
    const records = await new ServiceNowChangeRecords({ ...options, pageSize: 10 }).listCloudStorageChanges(WINDOW);
    assert.deepEqual(
      records.map((r) => [r.id, r.approved, r.kind, r.validTo, r.users]),
      [
        ['CHG-REQ', false, 'pilot', '2026-12-31T23:59:59Z', []],
        ['CHG-CAN', false, 'pilot', '2026-12-31T23:59:59Z', []],
        ['CHG-OPEN', true, 'configuration-change', null, []],
        ['CHG-EXC', true, 'exception', '2026-12-31T23:59:59Z', ['jdoe', 'asmith']],
      ],
    );
  });

  test('an unknown change kind is an invalid response naming the change', async () => {
    snow.on('GET', PATH, () => ({ body: { result: [change({ u_change_kind: 'whim' })] } }));
    await assert.rejects(
      new ServiceNowChangeRecords(options).listCloudStorageChanges(WINDOW),
      (err: Error) => err instanceof ConnectorInvalidResponseError && /CHG0030001: u_change_kind "whim" is not one of/.test(err.message),
    );
  });

  test('an OAuth token is sent as a bearer token', async () => {
    await new ServiceNowChangeRecords({ ...options, auth: { type: 'bearer', token: 'snow-oauth-token' } }).listCloudStorageChanges(WINDOW);
    assert.equal(snow.requests[0]?.headers.authorization, 'Bearer snow-oauth-token');
  });

  test("a 401 is an auth error with ServiceNow's message and detail, never the password", async () => {
    snow.on('GET', PATH, () => ({
      status: 401,
      body: { error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' },
    }));
    await assert.rejects(new ServiceNowChangeRecords(options).listCloudStorageChanges(WINDOW), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(
        err.message,
        /^servicenow: list cloud-storage change requests: HTTP 401 .*User Not Authenticated.*Required to provide Auth information/,
      );
      assert.ok(!err.message.includes('p@ss:w0rd-secret'));
      return true;
    });
  });

  test('a 403 on the table (missing ACL role) is an auth error', async () => {
    snow.on('GET', PATH, () => ({
      status: 403,
      body: {
        error: {
          message: 'Insufficient rights to query records',
          detail: 'Field(s) present in the query do not have permission to be read',
        },
        status: 'failure',
      },
    }));
    await assert.rejects(
      new ServiceNowChangeRecords(options).listCloudStorageChanges(WINDOW),
      /HTTP 403 .*Insufficient rights to query records/,
    );
  });

  test('429 honours Retry-After; 503 is unavailable', async () => {
    snow.on('GET', PATH, () => ({
      status: 429,
      headers: { 'retry-after': '12' },
      body: { error: { message: 'Too Many Requests', detail: 'Rate limit exceeded' }, status: 'failure' },
    }));
    await assert.rejects(
      new ServiceNowChangeRecords(options).listCloudStorageChanges(WINDOW),
      (err: Error) => err instanceof ConnectorRateLimitedError && err.retryAfterMs === 12_000,
    );
    snow.on('GET', PATH, () => ({ status: 503, body: '<html>Instance hibernating</html>' }));
    await assert.rejects(new ServiceNowChangeRecords(options).listCloudStorageChanges(WINDOW), ConnectorUnavailableError);
  });

  test('a body without result is an invalid response', async () => {
    snow.on('GET', PATH, () => ({ body: { records: [] } }));
    await assert.rejects(new ServiceNowChangeRecords(options).listCloudStorageChanges(WINDOW), /unexpected response \(result: /);
  });
});
