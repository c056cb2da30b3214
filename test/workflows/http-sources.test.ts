/**
 * The playbook on a real Temporal dev server with the real HTTP enrichment connectors talking to vendor stand-ins
 * (Okta, ServiceNow, the Microsoft identity platform and Graph, Elasticsearch): a healthy run decides from all of
 * them; a source that is down is recorded as unknown and the run still decides, failing closed; transient failures
 * and rate limits are retried inside the activity's policy, honouring the vendor's delay.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { exfilToCloudStorage } from '../../workflows';
import { getStateQuery } from '../../workflows/messages';
import { parseConfig, type Config } from '../../src/config';
import type { RunState } from '../../src/contracts/playbook';
import { playbookInput } from '../../src/temporal/playbook-runs';
import { createWorker } from '../../src/worker';
import { createActivityDeps } from '../../src/wiring';
import { createLogger } from '../../src/logger';
import { benignAlert, MiB, rawTestConfig, unique } from '../helpers/fixtures';
import { eventually, startTestServer, workflowBundle } from '../helpers/temporal';
import { StandIn } from '../fakes/stand-in';

const silent = createLogger({ level: 'silent' });
const TENANT = 'acme.onmicrosoft.com';
const ES_PATH = '/logs-proxy-*/_search';
const OKTA_USER = '/api/v1/users/jdoe%40acme.com';

describe('the playbook with HTTP enrichment sources (every task replays)', () => {
  let env: TestWorkflowEnvironment;
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  const okta = new StandIn();
  const snow = new StandIn();
  const login = new StandIn();
  const graph = new StandIn();
  const es = new StandIn();
  const standIns = [okta, snow, login, graph, es];

  before(async () => {
    await Promise.all(standIns.map((s) => s.start()));
    env = await startTestServer();
  });

  after(async () => {
    for (const w of workers) w.worker.shutdown();
    await Promise.all(workers.map((w) => w.running));
    await env?.teardown();
    await Promise.all(standIns.map((s) => s.stop()));
  });

  /** Every stand-in healthy: jdoe is an active Finance analyst on a compliant laptop with a 20 MiB/day norm. */
  beforeEach(() => {
    for (const s of standIns) s.requests.length = 0;
    okta
      .on('GET', OKTA_USER, () => ({
        body: {
          id: '00u1jdoe',
          status: 'ACTIVE',
          profile: {
            login: 'jdoe@acme.com',
            firstName: 'Jane',
            lastName: 'Doe',
            department: 'Finance',
            title: 'Financial Analyst',
            managerId: 'mmanager@acme.com',
            timezone: 'Europe/Berlin',
          },
        },
      }))
      .on('GET', '/api/v1/users/00u1jdoe/groups', () => ({
        body: [
          { id: '00g1', type: 'OKTA_GROUP', profile: { name: 'finance', description: null } },
          { id: '00g2', type: 'OKTA_GROUP', profile: { name: 'Cloud Storage Users', description: null } },
        ],
      }));
    snow.on('GET', '/api/now/table/change_request', () => ({ body: { result: [] } }));
    login.on('POST', `/${TENANT}/oauth2/v2.0/token`, () => ({
      body: { token_type: 'Bearer', expires_in: 3599, access_token: 'graph-token' },
    }));
    graph.on('GET', '/v1.0/deviceManagement/managedDevices', () => ({
      body: {
        value: [
          {
            id: 'd1',
            deviceName: 'LAPTOP-JD01',
            complianceState: 'compliant',
            managementAgent: 'mdm',
            managedDeviceOwnerType: 'company',
            userPrincipalName: 'jdoe@acme.com',
            lastSyncDateTime: '2026-11-23T08:00:00Z',
          },
        ],
      },
    }));
    es.on('POST', ES_PATH, () => ({ body: esDaily() }));
  });

  function esDaily() {
    const end = Date.parse('2026-11-24T00:00:00Z');
    return {
      took: 3,
      timed_out: false,
      _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      hits: { max_score: null, hits: [] },
      aggregations: {
        daily: {
          buckets: Array.from({ length: 30 }, (_, i) => ({
            key: end - (30 - i) * 86_400_000,
            doc_count: 3,
            uploaded_bytes: { value: (i % 2 === 0 ? 18 : 22) * MiB },
          })),
        },
      },
    };
  }

  async function startWorker(): Promise<Config> {
    const raw = rawTestConfig({ taskQueue: unique('http-src') });
    const config = parseConfig(
      {
        ...raw,
        vendors: {
          okta: { orgUrl: okta.url, auth: { type: 'ssws', token: 'env:OKTA_API_TOKEN' }, requestTimeout: '2s' },
          servicenow: {
            instanceUrl: snow.url,
            auth: { type: 'basic', username: 'soar', password: 'env:SNOW_PASSWORD' },
            requestTimeout: '2s',
          },
          microsoftEntra: {
            tenantId: TENANT,
            clientId: 'client-id',
            clientSecret: 'env:GRAPH_SECRET',
            authorityUrl: login.url,
            graphUrl: graph.url,
            requestTimeout: '2s',
          },
          elasticsearch: { url: es.url, apiKey: 'env:ES_API_KEY', requestTimeout: '2s' },
        },
        enrichment: {
          ...(raw.enrichment as Record<string, unknown>),
          hr: { source: 'okta', loginSuffix: '@acme.com', cloudStorageGroups: ['Cloud Storage Users'] },
          changes: { source: 'servicenow' },
          devices: { source: 'intune' },
          baselines: { source: 'elasticsearch', index: 'logs-proxy-*' },
        },
      },
      { OKTA_API_TOKEN: 'okta-token', SNOW_PASSWORD: 'snow-pass', GRAPH_SECRET: 'graph-secret', ES_API_KEY: 'es-key' },
    );
    const worker = await createWorker({
      config,
      connection: env.nativeConnection,
      deps: createActivityDeps(config, silent),
      workflowBundle: await workflowBundle(),
      maxCachedWorkflows: 0,
    });
    workers.push({ worker, running: worker.run() });
    return config;
  }

  const start = (config: Config) =>
    env.client.workflow.start(exfilToCloudStorage, {
      taskQueue: config.temporal.taskQueue,
      workflowId: unique('http-run'),
      args: [playbookInput(config, benignAlert())],
    });

  /** The run state once the decision is made (an escalated run then waits for approval). */
  const decided = (handle: Awaited<ReturnType<typeof start>>) =>
    eventually(
      async () => {
        const s = await handle.query(getStateQuery);
        return s.decision ? s : null;
      },
      60_000,
      'the decision',
    );

  test('with every vendor answering, the run decides from them and closes benign', async () => {
    const config = await startWorker();
    const handle = await start(config);
    const result: RunState = await handle.result();
    assert.equal(result.decision?.outcome, 'benign', result.decision?.reasons.join('\n'));
    // A vendor's lookup is an ordinary activity (policy.lookups): a slow vendor shows as a pending activity.
    const scheduled = ((await handle.fetchHistory()).events ?? []).map((ev) => ev.activityTaskScheduledEventAttributes?.activityType?.name);
    for (const lookup of ['lookupHrAuthorization', 'findCloudStoragePolicyChanges', 'checkDeviceAuthorization', 'getUploadBaseline'])
      assert.ok(scheduled.includes(lookup), `${lookup} is an ordinary activity`);
    const e = result.enrichment;
    assert.deepEqual(
      [e.hr?.source, e.policyChanges?.source, e.device?.source, e.baseline?.source],
      ['okta:users', 'servicenow:change_request', 'microsoft-graph:intune-managed-devices', 'elasticsearch:logs-proxy-*'],
    );
    assert.equal(e.hr?.status === 'ok' && e.hr.value.manager, 'mmanager');
    assert.deepEqual(e.baseline?.status === 'ok' && e.baseline.value, {
      user: 'jdoe',
      days: 30,
      meanBytes: 20 * MiB,
      stdDevBytes: 2 * MiB,
      // Volume rule /2: the event's day in the user's time zone (from Okta), and the day so far before the event.
      day: {
        timezone: 'Europe/Berlin',
        timezoneSource: 'hr',
        date: '2026-11-24',
        start: '2026-11-23T23:00:00.000Z',
        end: '2026-11-24T23:00:00.000Z',
        priorBytes: 0,
        priorFrom: 'elasticsearch:logs-proxy-*, 2026-11-24 up to the event',
      },
    });
    assert.equal(e.businessHours?.status === 'ok' && e.businessHours.value.timezone, 'Europe/Berlin');
    // The baseline covers the 30 Berlin days before the event's day and that day up to the event, not before "now".
    const range = (es.requests[0]?.json as { query: { bool: { filter: { range?: unknown }[] } } }).query.bool.filter[1]?.range;
    assert.deepEqual(range, { '@timestamp': { gte: '2026-10-24T22:00:00.000Z', lt: '2026-11-24T09:00:00.000Z' } });
  });

  test('Okta rejecting the token: HR is unknown with the reason, tried once, and the run escalates (fail closed)', async () => {
    okta.on('GET', OKTA_USER, () => ({
      status: 401,
      body: { errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorLink: 'E0000011', errorId: 'x', errorCauses: [] },
    }));
    const config = await startWorker();
    const handle = await start(config);
    const state = await decided(handle);
    assert.equal(state.enrichment.hr?.status, 'unknown');
    assert.match(
      state.enrichment.hr?.status === 'unknown' ? state.enrichment.hr.reason : '',
      /okta: get user jdoe@acme\.com: HTTP 401 .*E0000011.*Invalid token provided/,
    );
    assert.equal(state.decision?.outcome, 'escalate');
    assert.deepEqual(state.decision?.triggeredBy, ['departing-employee']);
    assert.equal(state.decision?.rules.find((r) => r.rule === 'user-not-authorized')?.verdict, 'unknown');
    // Without HR's time zone, business hours fall back to the organisation default and say so.
    assert.equal(
      state.enrichment.businessHours?.status === 'ok' && state.enrichment.businessHours.value.timezoneSource,
      'organisation-default',
    );
    assert.equal(okta.requests.length, 1, 'an auth failure is not retried');
    await handle.terminate('test done');
  });

  test('Graph that keeps answering 503: retried with backoff until the policy gives up, then the device is unknown and the run escalates', async () => {
    graph.on('GET', '/v1.0/deviceManagement/managedDevices', () => ({
      status: 503,
      body: { error: { code: 'serviceNotAvailable', message: 'The service is temporarily unavailable.' } },
    }));
    const config = await startWorker();
    const handle = await start(config);
    const result = await decided(handle);
    assert.equal(result.enrichment.device?.status, 'unknown');
    assert.match(
      result.enrichment.device?.status === 'unknown' ? result.enrichment.device.reason : '',
      /microsoft-graph: find managed device LAPTOP-JD01: HTTP 503 .*serviceNotAvailable/,
    );
    assert.equal(result.decision?.outcome, 'escalate');
    assert.deepEqual(result.decision?.triggeredBy, ['device-not-authorized']);
    // The activity policy allows 5 attempts; the token was fetched once and reused.
    assert.equal(graph.requests.length, 5);
    assert.equal(login.requests.length, 1);
    await handle.terminate('test done');
  });

  test('Elasticsearch rate limiting and 503s are retried inside the activity, honouring Retry-After', async () => {
    let calls = 0;
    const at: number[] = [];
    es.on('POST', ES_PATH, () => {
      calls++;
      at.push(Date.now());
      if (calls === 1) {
        return {
          status: 429,
          headers: { 'retry-after': '2' },
          body: { error: { type: 'es_rejected_execution_exception', reason: 'rejected execution' }, status: 429 },
        };
      }
      if (calls === 2)
        return {
          status: 503,
          body: { error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' }, status: 503 },
        };
      return { body: esDaily() };
    });
    const config = await startWorker();
    const result = await (await start(config)).result();
    assert.equal(result.enrichment.baseline?.status, 'ok');
    assert.equal(result.decision?.outcome, 'benign');
    assert.equal(es.requests.length, 3);
    const [first = 0, second = 0] = at;
    // The policy's own first interval is 1 s: a gap of 2 s is the vendor's Retry-After at work.
    assert.ok(second - first >= 1900, `retried after ${second - first} ms`);
  });
});
