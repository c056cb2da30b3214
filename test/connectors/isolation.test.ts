/**
 * The EDR isolation connectors against stand-ins speaking CrowdStrike Falcon, Microsoft Defender for Endpoint and
 * SentinelOne wire formats: verified isolation (pending, then final), idempotency (already isolated, a retry after the
 * vendor acted, a resume from heartbeat details), guard rails, release, and each error class.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { VerifiedIsolation, type IsolationTiming } from '../../src/containment/verified-isolation';
import { CrowdStrikeIsolation, type CrowdStrikeOptions } from '../../src/connectors/crowdstrike/isolation';
import {
  ConnectorActionFailedError,
  ConnectorAuthError,
  ConnectorConfigurationError,
  ConnectorNotFoundError,
  ConnectorRateLimitedError,
  ConnectorUnavailableError,
} from '../../src/connectors/errors';
import { DefenderIsolation, type DefenderOptions } from '../../src/connectors/microsoft-defender/isolation';
import { EntraApp, type EntraAppOptions } from '../../src/connectors/microsoft-entra/client';
import { idFilter, SentinelOneIsolation, type SentinelOneOptions } from '../../src/connectors/sentinelone/isolation';
import { ENTRA_TENANT, FakeCrowdStrike, FakeDefender, FakeSentinelOne } from '../fakes/containment-vendors';
import { actionContext, FAST } from '../helpers/action-context';

/** Each vendor's calls behind the shared verified-isolation procedure, as the wiring puts them together. */
type Timed = { timing: IsolationTiming };
const crowdstrike = (o: CrowdStrikeOptions & Timed) => new VerifiedIsolation(new CrowdStrikeIsolation(o), o.timing);
const defender = (o: DefenderOptions & EntraAppOptions & Timed) =>
  new VerifiedIsolation(new DefenderIsolation(new EntraApp(o), o), o.timing);
const sentinelone = (o: SentinelOneOptions & Timed) => new VerifiedIsolation(new SentinelOneIsolation(o), o.timing);

const target = (host: string, extra: Partial<{ maxDevices: number; ref: Record<string, string> }> = {}) => ({
  workflowId: 'wf-1',
  host,
  maxDevices: 1,
  ...extra,
});

describe('CrowdStrike Falcon isolation', () => {
  let falcon: FakeCrowdStrike;
  let client: VerifiedIsolation;
  before(async () => {
    falcon = await new FakeCrowdStrike().start();
  });
  after(() => falcon.stop());
  beforeEach(() => {
    falcon.devices.clear();
    falcon.hold = false;
    falcon.http.requests.length = 0;
    client = crowdstrike({ baseUrl: falcon.url, clientId: falcon.clientId, clientSecret: falcon.clientSecret, timing: FAST });
  });

  test('contains a device and reports done only once Falcon says contained', async () => {
    const id = falcon.addDevice('LAPTOP-JD01');
    const ctx = actionContext();
    const outcome = await client.isolate(target('LAPTOP-JD01'), ctx);
    assert.equal(outcome.status, 'done');
    assert.equal(outcome.alreadyInState, false);
    assert.deepEqual(outcome.ref, { deviceIds: id });
    assert.equal(falcon.devices.get(id)?.status, 'contained');
    const contains = falcon.actionCalls('contain');
    assert.equal(contains.length, 1);
    assert.deepEqual(contains[0]?.json, { ids: [id] });
    assert.equal(contains[0]?.headers['content-type'], 'application/json');
    assert.equal(falcon.calls('GET', '/devices/queries/devices/v1')[0]?.query.get('filter'), "hostname:'LAPTOP-JD01'");
    // Polled through the pending state, with a heartbeat per poll.
    assert.ok(falcon.calls('GET', '/devices/entities/devices/v2').length >= 3);
    assert.ok(ctx.beats.length >= 3);
  });

  test('an already contained device is success and nothing is requested', async () => {
    falcon.addDevice('LAPTOP-JD01', 'contained');
    const outcome = await client.isolate(target('LAPTOP-JD01'), actionContext());
    assert.equal(outcome.status, 'done');
    assert.equal(outcome.alreadyInState, true);
    assert.match(outcome.detail, /already isolated/);
    assert.equal(falcon.actionCalls('contain').length, 0);
  });

  test('a retry after the vendor already acted (heartbeat lost) polls the pending action instead of asking again', async () => {
    const id = falcon.addDevice('LAPTOP-JD01', 'containment_pending');
    const outcome = await client.isolate(target('LAPTOP-JD01'), actionContext());
    assert.equal(outcome.status, 'done');
    assert.equal(falcon.actionCalls('contain').length, 0);
    assert.equal(falcon.devices.get(id)?.status, 'contained');
  });

  test("with a plan: a device found contained on a retry is this run's doing unless the plan saw it contained", async () => {
    const id = falcon.addDevice('LAPTOP-JD01');
    const prepared = await client.prepare('isolate', target('LAPTOP-JD01'));
    assert.ok('plan' in prepared);
    assert.deepEqual(prepared.plan.before, { [id]: 'normal' });
    falcon.devices.get(id)!.status = 'contained'; // the first attempt's request, its answer lost
    const retry = await client.isolate({ ...target('LAPTOP-JD01'), plan: prepared.plan }, actionContext());
    assert.equal(retry.changedBy, 'this-run');
    assert.equal(retry.alreadyInState, false);
    assert.deepEqual(retry.ref, { deviceIds: id });
    assert.equal(falcon.actionCalls('contain').length, 0);

    const other = falcon.addDevice('LAPTOP-PRE', 'contained');
    const seen = await client.prepare('isolate', target('LAPTOP-PRE'));
    assert.ok('plan' in seen);
    const already = await client.isolate({ ...target('LAPTOP-PRE'), plan: seen.plan }, actionContext());
    assert.equal(already.alreadyInState, true);
    assert.equal(already.changedBy, 'someone-else');
    assert.match(already.detail, new RegExp(`${other} was already isolated \\(or on its way\\) before this run asked: not by this run`));
  });

  test('a retry resumes from the heartbeat details: no lookup, no second request', async () => {
    falcon.addDevice('LAPTOP-JD01');
    falcon.hold = true;
    const first = actionContext();
    await assert.rejects(
      crowdstrike({
        baseUrl: falcon.url,
        clientId: falcon.clientId,
        clientSecret: falcon.clientSecret,
        timing: { pollIntervalMs: 5, verifyTimeoutMs: 100 },
      }).isolate(target('LAPTOP-JD01'), first),
      ConnectorActionFailedError,
    );
    assert.equal(falcon.actionCalls('contain').length, 1);
    const lookups = falcon.calls('GET', '/devices/queries/devices/v1').length;
    falcon.hold = false;
    const resumed = { ...(first.last() as object), startedAt: Date.now() };
    const outcome = await client.isolate(target('LAPTOP-JD01'), actionContext(resumed));
    assert.equal(outcome.status, 'done');
    assert.equal(falcon.actionCalls('contain').length, 1, 'the resumed attempt must not ask again');
    assert.equal(falcon.calls('GET', '/devices/queries/devices/v1').length, lookups);
  });

  test('a device that never reaches contained within the budget is "requested, not verified", never done', async () => {
    falcon.addDevice('LAPTOP-JD01');
    falcon.hold = true;
    const slow = crowdstrike({
      baseUrl: falcon.url,
      clientId: falcon.clientId,
      clientSecret: falcon.clientSecret,
      timing: { pollIntervalMs: 5, verifyTimeoutMs: 80 },
    });
    await assert.rejects(slow.isolate(target('LAPTOP-JD01'), actionContext()), (err: Error) => {
      assert.ok(err instanceof ConnectorActionFailedError);
      assert.match(
        err.message,
        /^crowdstrike: isolate of device \w+ was requested but the vendor still reports "isolating" .*not verified/,
      );
      return true;
    });
  });

  test('two devices under one host name exceed the limit: refused, nothing requested', async () => {
    falcon.addDevice('LAPTOP-JD01');
    falcon.addDevice('laptop-jd01');
    const outcome = await client.isolate(target('LAPTOP-JD01'), actionContext());
    assert.equal(outcome.status, 'refused');
    assert.match(outcome.detail, /2 devices are named "LAPTOP-JD01".*limit of 1 per run: nothing isolated/);
    assert.equal(falcon.actionCalls('contain').length, 0);
    // With a limit of 2 both are contained.
    const both = await client.isolate(target('LAPTOP-JD01', { maxDevices: 2 }), actionContext());
    assert.equal(both.status, 'done');
    assert.equal(both.ref?.deviceIds?.split(',').length, 2);
  });

  test('an unknown host is not-found; a host name that would change the filter is refused before any request', async () => {
    await assert.rejects(client.isolate(target('NOPE'), actionContext()), ConnectorNotFoundError);
    const before = falcon.http.requests.length;
    await assert.rejects(client.isolate(target("x' OR hostname:'*"), actionContext()), ConnectorConfigurationError);
    assert.equal(falcon.calls('GET', '/devices/queries/devices/v1').length, falcon.calls('GET', '/devices/queries/devices/v1').length);
    assert.ok(falcon.http.requests.slice(before).every((r) => r.path !== '/devices/queries/devices/v1'));
  });

  test('lifts containment on release and verifies normal', async () => {
    const id = falcon.addDevice('LAPTOP-JD01', 'contained');
    const outcome = await client.release(target('LAPTOP-JD01', { ref: { deviceIds: id } }), actionContext());
    assert.equal(outcome.status, 'done');
    assert.equal(falcon.devices.get(id)?.status, 'normal');
    assert.deepEqual(falcon.actionCalls('lift_containment')[0]?.json, { ids: [id] });
    assert.equal(falcon.calls('GET', '/devices/queries/devices/v1').length, 0, 'release acts on the recorded device IDs');
  });

  test('the token is fetched once and reused until it nears expiry', async () => {
    falcon.addDevice('LAPTOP-JD01', 'contained');
    const tokens = falcon.tokenRequests;
    await client.isolate(target('LAPTOP-JD01'), actionContext());
    await client.isolate(target('LAPTOP-JD01'), actionContext());
    assert.equal(falcon.tokenRequests - tokens, 1);
    const form = new URLSearchParams(falcon.calls('POST', '/oauth2/token').at(-1)?.body);
    assert.equal(form.get('client_id'), falcon.clientId);
  });

  test('403 fails fast naming the provider and the missing scope; bad credentials too', async () => {
    falcon.addDevice('LAPTOP-JD01');
    falcon.inject('POST', '/devices/entities/devices-actions/v2', {
      status: 403,
      body: { meta: {}, errors: [{ code: 403, message: 'access denied, authorization failed' }], resources: null },
    });
    await assert.rejects(client.isolate(target('LAPTOP-JD01'), actionContext()), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(
        err.message,
        /^crowdstrike: contain device \w+: HTTP 403 .*access denied, authorization failed.*needs permission: API client scope "Hosts: Read" and "Hosts: Write"/,
      );
      assert.ok(!err.message.includes(falcon.clientSecret));
      return true;
    });
    const wrong = crowdstrike({ baseUrl: falcon.url, clientId: 'x', clientSecret: 'wrong-secret', timing: FAST });
    await assert.rejects(wrong.isolate(target('LAPTOP-JD01'), actionContext()), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.ok(!err.message.includes('wrong-secret'));
      return true;
    });
  });

  test("429 carries Falcon's X-RateLimit-RetryAfter; 5xx and timeouts are unavailable (retried)", async () => {
    falcon.addDevice('LAPTOP-JD01');
    const retryAt = Math.floor(Date.now() / 1000) + 5;
    falcon.inject('GET', '/devices/queries/devices/v1', {
      status: 429,
      headers: { 'x-ratelimit-limit': '6000', 'x-ratelimit-remaining': '0', 'x-ratelimit-retryafter': String(retryAt) },
      body: { meta: {}, errors: [{ code: 429, message: 'API rate limit exceeded.' }], resources: null },
    });
    await assert.rejects(client.isolate(target('LAPTOP-JD01'), actionContext()), (err: Error) => {
      assert.ok(err instanceof ConnectorRateLimitedError);
      assert.ok(err.retryAfterMs !== null && err.retryAfterMs > 3000 && err.retryAfterMs <= 5000, String(err.retryAfterMs));
      return true;
    });
    falcon.inject('GET', '/devices/queries/devices/v1', { status: 503, body: { errors: [{ code: 503, message: 'Service Unavailable' }] } });
    await assert.rejects(client.isolate(target('LAPTOP-JD01'), actionContext()), ConnectorUnavailableError);
  });
});

describe('Microsoft Defender for Endpoint isolation', () => {
  let mde: FakeDefender;
  let client: VerifiedIsolation;
  before(async () => {
    mde = await new FakeDefender().start();
  });
  after(() => mde.stop());
  beforeEach(() => {
    mde.machines.clear();
    mde.actions.length = 0;
    mde.finalStatus = 'Succeeded';
    mde.http.requests.length = 0;
    client = defender({
      baseUrl: mde.url,
      tokenUrl: `${mde.url}${mde.tokenPath}`,
      clientId: 'app-id',
      clientSecret: mde.clientSecret,
      scope: 'https://api.securitycenter.microsoft.com/.default',
      isolationType: 'Full',
      timing: FAST,
    });
  });

  test('isolates by the machine DNS name and polls the machine action until Succeeded', async () => {
    const id = mde.addMachine('laptop-jd01.contoso.com');
    mde.addMachine('laptop-jd010.contoso.com'); // a prefix match that must not count
    const outcome = await client.isolate(target('LAPTOP-JD01'), actionContext());
    assert.equal(outcome.status, 'done');
    assert.deepEqual(outcome.ref, { deviceIds: id });
    const post = mde.calls('POST', `/api/machines/${id}/isolate`);
    assert.equal(post.length, 1);
    assert.deepEqual(Object.keys(post[0]?.json as object).sort(), ['Comment', 'IsolationType']);
    assert.equal((post[0]?.json as { IsolationType: string }).IsolationType, 'Full');
    assert.equal(mde.actions.at(-1)?.status, 'Succeeded');
    const tokenForm = new URLSearchParams(mde.calls('POST', `/${ENTRA_TENANT}/oauth2/v2.0/token`)[0]?.body);
    assert.equal(tokenForm.get('grant_type'), 'client_credentials');
  });

  test('a machine whose latest isolation succeeded is already isolated: nothing requested', async () => {
    const id = mde.addMachine('laptop-jd01.contoso.com');
    mde.addAction(id, 'Isolate', 'Succeeded');
    const outcome = await client.isolate(target('LAPTOP-JD01'), actionContext());
    assert.equal(outcome.alreadyInState, true);
    assert.equal(mde.calls('POST', `/api/machines/${id}/isolate`).length, 0);
  });

  test("with a plan: a retry finds this run's own request by the workflow ID in requestorComment and polls it", async () => {
    const id = mde.addMachine('laptop-jd01.contoso.com');
    const prepared = await client.prepare('isolate', target('LAPTOP-JD01'));
    assert.ok('plan' in prepared);
    assert.deepEqual(prepared.plan.before, { [id]: 'normal' });
    // The first attempt's request reached Defender; its answer (and every heartbeat) was lost.
    const first = await client.isolate({ ...target('LAPTOP-JD01'), plan: prepared.plan }, actionContext());
    assert.equal(first.changedBy, 'this-run');
    mde.actions.at(-1)!.status = 'InProgress';
    const retry = await client.isolate({ ...target('LAPTOP-JD01'), plan: prepared.plan }, actionContext());
    assert.equal(retry.changedBy, 'this-run');
    assert.equal(retry.alreadyInState, false);
    assert.match(retry.detail, /by this run: verified with microsoft-defender\. The request .* went out in an earlier attempt/);
    assert.equal(mde.calls('POST', `/api/machines/${id}/isolate`).length, 1);
    assert.match(mde.actions.at(-1)?.requestorComment ?? '', /run wf-1:/);
  });

  test('with a plan: a machine someone else isolated after this run looked is not credited to the run', async () => {
    const id = mde.addMachine('laptop-jd01.contoso.com');
    const prepared = await client.prepare('isolate', target('LAPTOP-JD01'));
    assert.ok('plan' in prepared);
    mde.addAction(id, 'Isolate', 'Succeeded'); // an analyst, by hand, between the look and the request
    const outcome = await client.isolate({ ...target('LAPTOP-JD01'), plan: prepared.plan }, actionContext());
    assert.equal(outcome.alreadyInState, true);
    assert.equal(outcome.changedBy, 'someone-else');
    assert.match(outcome.detail, /isolated by someone else after this run looked \(microsoft-defender shows no request of this run\)/);
    assert.equal(mde.calls('POST', `/api/machines/${id}/isolate`).length, 0);
  });

  test('ActiveRequestAlreadyExists counts as in progress: the existing action is followed, not repeated', async () => {
    const id = mde.addMachine('laptop-jd01.contoso.com');
    const pending = mde.addAction(id, 'Isolate', 'Pending');
    // Hide the pending action from the state check so the client does ask, as after a lost heartbeat.
    mde.inject('GET', '/api/machineactions', { body: { value: [] } });
    const outcome = await client.isolate(target('LAPTOP-JD01'), actionContext());
    assert.equal(outcome.status, 'done');
    assert.equal(mde.calls('POST', `/api/machines/${id}/isolate`).length, 1);
    assert.equal(mde.actions.length, 1, 'no second isolation action was created');
    assert.equal(pending.status, 'Succeeded');
  });

  test('a machine action that ends Failed is a permanent failure, not success', async () => {
    mde.addMachine('laptop-jd01.contoso.com');
    mde.finalStatus = 'Failed';
    await assert.rejects(client.isolate(target('LAPTOP-JD01'), actionContext()), (err: Error) => {
      assert.ok(err instanceof ConnectorActionFailedError);
      assert.match(err.message, /machine action .* \(Isolate\) ended Failed/);
      return true;
    });
  });

  test('unisolates on release and verifies', async () => {
    const id = mde.addMachine('laptop-jd01.contoso.com');
    mde.addAction(id, 'Isolate', 'Succeeded');
    const outcome = await client.release(target('LAPTOP-JD01', { ref: { deviceIds: id } }), actionContext());
    assert.equal(outcome.status, 'done');
    assert.deepEqual(Object.keys(mde.calls('POST', `/api/machines/${id}/unisolate`)[0]?.json as object), ['Comment']);
  });

  test('403 names Machine.Isolate; a wrong client secret is an auth error; 429 honours Retry-After', async () => {
    const id = mde.addMachine('laptop-jd01.contoso.com');
    mde.inject('POST', `/api/machines/${id}/isolate`, {
      status: 403,
      body: { error: { code: 'Forbidden', message: 'The application does not have any of the required application roles', target: 'x' } },
    });
    await assert.rejects(client.isolate(target('LAPTOP-JD01'), actionContext()), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(err.message, /^microsoft-defender: isolate machine .*HTTP 403.*needs permission: .*Machine\.Isolate/);
      return true;
    });
    const wrong = defender({
      baseUrl: mde.url,
      tokenUrl: `${mde.url}${mde.tokenPath}`,
      clientId: 'app-id',
      clientSecret: 'not-the-secret',
      scope: 'https://api.securitycenter.microsoft.com/.default',
      isolationType: 'Full',
      timing: FAST,
    });
    await assert.rejects(wrong.isolate(target('LAPTOP-JD01'), actionContext()), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError, err.message);
      assert.ok(!err.message.includes('not-the-secret'));
      return true;
    });
    mde.inject('GET', '/api/machines', {
      status: 429,
      headers: { 'retry-after': '12' },
      body: { error: { code: 'TooManyRequests', message: 'Rate limit' } },
    });
    await assert.rejects(client.isolate(target('LAPTOP-JD01'), actionContext()), (err: Error) => {
      assert.ok(err instanceof ConnectorRateLimitedError && err.retryAfterMs === 12_000);
      return true;
    });
  });
});

describe('SentinelOne network quarantine', () => {
  let s1: FakeSentinelOne;
  let client: VerifiedIsolation;
  before(async () => {
    s1 = await new FakeSentinelOne().start();
  });
  after(() => s1.stop());
  beforeEach(() => {
    s1.agents.clear();
    s1.affectedOverride = null;
    s1.http.requests.length = 0;
    client = sentinelone({ baseUrl: s1.url, apiToken: s1.apiToken, timing: FAST });
  });

  test('disconnects the agent by ID and polls until disconnected', async () => {
    const id = s1.addAgent('LAPTOP-JD01');
    s1.addAgent('OTHER-HOST');
    const outcome = await client.isolate(target('LAPTOP-JD01'), actionContext());
    assert.equal(outcome.status, 'done');
    assert.equal(s1.agents.get(id)?.networkStatus, 'disconnected');
    const posts = s1.calls('POST', '/web/api/v2.1/agents/actions/disconnect');
    assert.equal(posts.length, 1);
    assert.deepEqual(posts[0]?.json, { filter: { ids: [id] } });
    assert.equal(posts[0]?.headers.authorization, `ApiToken ${s1.apiToken}`);
  });

  test('an already disconnected agent is success without a request', async () => {
    s1.addAgent('LAPTOP-JD01', 'disconnected');
    const outcome = await client.isolate(target('LAPTOP-JD01'), actionContext());
    assert.equal(outcome.alreadyInState, true);
    assert.equal(s1.calls('POST', '/web/api/v2.1/agents/actions/disconnect').length, 0);
  });

  test('affected: 0 is a failure', async () => {
    s1.addAgent('LAPTOP-JD01');
    s1.affectedOverride = 0;
    await assert.rejects(client.isolate(target('LAPTOP-JD01'), actionContext()), (err: Error) => {
      assert.ok(err instanceof ConnectorActionFailedError);
      assert.match(err.message, /affected no agent \(affected: 0\)/);
      return true;
    });
  });

  test('never sends an empty or malformed filter', () => {
    assert.throws(() => idFilter([]), ConnectorConfigurationError);
    assert.throws(() => idFilter(['']), ConnectorConfigurationError);
    assert.throws(() => idFilter(['1', 'a b']), ConnectorConfigurationError);
    assert.deepEqual(idFilter(['123']), { filter: { ids: ['123'] } });
  });

  test('reconnects on release', async () => {
    const id = s1.addAgent('LAPTOP-JD01', 'disconnected');
    const outcome = await client.release(target('LAPTOP-JD01', { ref: { deviceIds: id } }), actionContext());
    assert.equal(outcome.status, 'done');
    assert.equal(s1.agents.get(id)?.networkStatus, 'connected');
    assert.deepEqual(s1.calls('POST', '/web/api/v2.1/agents/actions/connect')[0]?.json, { filter: { ids: [id] } });
  });

  test('401 names the provider and role; 429 honours Retry-After; 500 is retried', async () => {
    s1.addAgent('LAPTOP-JD01');
    const bad = sentinelone({ baseUrl: s1.url, apiToken: 'wrong', timing: FAST });
    await assert.rejects(bad.isolate(target('LAPTOP-JD01'), actionContext()), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(
        err.message,
        /^sentinelone: look up agent "LAPTOP-JD01": HTTP 401 .*Authentication Failed.*needs permission: a role with Endpoints/,
      );
      return true;
    });
    s1.inject('GET', '/web/api/v2.1/agents', {
      status: 429,
      headers: { 'retry-after': '3' },
      body: { errors: [{ code: 4290010, title: 'Too many requests' }] },
    });
    await assert.rejects(
      client.isolate(target('LAPTOP-JD01'), actionContext()),
      (err: Error) => err instanceof ConnectorRateLimitedError && err.retryAfterMs === 3000,
    );
    s1.inject('GET', '/web/api/v2.1/agents', { status: 500, body: { errors: [{ code: 5000010, title: 'Server Error' }] } });
    await assert.rejects(client.isolate(target('LAPTOP-JD01'), actionContext()), ConnectorUnavailableError);
  });
});
