/**
 * The cloud-storage access connectors against stand-ins speaking Microsoft Graph, Okta, Google (OAuth 2.0 JWT
 * bearer + Admin SDK Directory) and Dropbox Business wire formats: happy paths, state checks, undo, and each error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DropboxMemberSuspension } from '../../src/connectors/dropbox/members';
import {
  ConnectorAuthError,
  ConnectorConfigurationError,
  ConnectorInvalidResponseError,
  ConnectorNotFoundError,
  ConnectorRateLimitedError,
  ConnectorUnavailableError,
} from '../../src/connectors/errors';
import { GoogleSignOut } from '../../src/connectors/google-workspace/sessions';
import { EntraApp } from '../../src/connectors/microsoft-entra/client';
import { GraphClient } from '../../src/connectors/microsoft-graph/client';
import { GraphSessionRevocation } from '../../src/connectors/microsoft-graph/sessions';
import { OktaClient } from '../../src/connectors/okta/client';
import { OktaSessionRevocation } from '../../src/connectors/okta/sessions';
import { FakeDropbox, FakeGoogle, FakeGraph, FakeOkta } from '../fakes/containment-vendors';
import { actionContext } from '../helpers/action-context';

const who = (user: string, ref?: Record<string, string>) => ({
  workflowId: 'wf-1',
  user,
  destDomain: 'dropbox.com',
  ...(ref ? { ref } : {}),
});

describe('Microsoft Graph: revokeSignInSessions', () => {
  let graph: FakeGraph;
  let client: GraphSessionRevocation;
  before(async () => {
    graph = await new FakeGraph().start();
    graph.addUser('jdoe@acme.com');
    const app = new EntraApp({ tokenUrl: `${graph.url}${graph.tokenPath}`, clientId: 'app', clientSecret: graph.clientSecret });
    client = new GraphSessionRevocation(new GraphClient(app, { graphUrl: graph.url, scope: 'https://graph.microsoft.com/.default' }), {
      userTemplate: '{user}@acme.com',
    });
  });
  after(() => graph.stop());

  test('revokes the sessions of the mapped user principal name, with a cached token', async () => {
    const outcome = await client.revoke(who('jdoe'));
    assert.equal(outcome.status, 'done');
    assert.match(outcome.detail, /jdoe@acme\.com revoked/);
    await client.revoke(who('jdoe'));
    assert.deepEqual(graph.revoked, ['jdoe@acme.com', 'jdoe@acme.com']);
    assert.equal(graph.tokenRequests, 1);
    const tokenForm = new URLSearchParams(graph.calls('POST', graph.tokenPath)[0]?.body);
    assert.equal(tokenForm.get('scope'), 'https://graph.microsoft.com/.default');
  });

  test('value=false is not success; restore says there is nothing to restore', async () => {
    graph.inject('POST', `/v1.0/users/${encodeURIComponent('jdoe@acme.com')}/revokeSignInSessions`, { body: { value: false } });
    await assert.rejects(client.revoke(who('jdoe')), /Graph answered value=false/);
    const restored = await client.restore(who('jdoe', { account: 'jdoe@acme.com' }));
    assert.match(restored.detail, /Nothing to restore at Entra ID/);
  });

  test('403 names User.RevokeSessions.All; 404 is not-found; 429 honours Retry-After; 503 is retried', async () => {
    const path = `/v1.0/users/${encodeURIComponent('jdoe@acme.com')}/revokeSignInSessions`;
    graph.inject('POST', path, {
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } },
    });
    await assert.rejects(client.revoke(who('jdoe')), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(
        err.message,
        /^microsoft-graph: revoke sign-in sessions of jdoe@acme\.com: HTTP 403 .*Insufficient privileges.*needs permission: .*User\.RevokeSessions\.All/,
      );
      return true;
    });
    await assert.rejects(client.revoke(who('ghost')), ConnectorNotFoundError);
    graph.inject('POST', path, {
      status: 429,
      headers: { 'retry-after': '4' },
      body: { error: { code: 'TooManyRequests', message: 'throttled' } },
    });
    await assert.rejects(client.revoke(who('jdoe')), (err: Error) => err instanceof ConnectorRateLimitedError && err.retryAfterMs === 4000);
    graph.inject('POST', path, { status: 503, body: { error: { code: 'serviceNotAvailable', message: 'try later' } } });
    await assert.rejects(client.revoke(who('jdoe')), ConnectorUnavailableError);
  });

  test('a user name that would change the URL path is refused before any request', async () => {
    await assert.rejects(client.revoke(who('../admin')), ConnectorConfigurationError);
  });

  test('a 401 on the token or on revokeSignInSessions names User.RevokeSessions.All', async () => {
    const wrongSecret = new GraphSessionRevocation(
      new GraphClient(new EntraApp({ tokenUrl: `${graph.url}${graph.tokenPath}`, clientId: 'app', clientSecret: 'wrong-secret' }), {
        graphUrl: graph.url,
        scope: 'https://graph.microsoft.com/.default',
      }),
      { userTemplate: '{user}@acme.com' },
    );
    await assert.rejects(wrongSecret.revoke(who('jdoe')), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(
        err.message,
        /^microsoft-graph: get an access token \(client credentials\): invalid_client: AADSTS7000215: Invalid client secret provided\.; needs permission: Microsoft Graph application permission User\.RevokeSessions\.All$/,
      );
      assert.ok(!err.message.includes('wrong-secret'));
      return true;
    });
    const path = `/v1.0/users/${encodeURIComponent('jdoe@acme.com')}/revokeSignInSessions`;
    const unauthorized = {
      status: 401,
      body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' } },
    };
    graph.inject('POST', path, unauthorized, unauthorized);
    await assert.rejects(client.revoke(who('jdoe')), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(
        err.message,
        /^microsoft-graph: revoke sign-in sessions of jdoe@acme\.com: HTTP 401 .*Access token validation failure.*; needs permission: Microsoft Graph application permission User\.RevokeSessions\.All$/,
      );
      return true;
    });
  });
});

describe('Okta: clear sessions and OAuth tokens, unassign the app', () => {
  let okta: FakeOkta;
  let client: OktaSessionRevocation;
  let userId: string;
  before(async () => {
    okta = await new FakeOkta().start();
    userId = okta.addUser('jdoe@acme.com');
    okta.addUser('grp@acme.com');
    okta.addApp('0oaDropbox');
    client = new OktaSessionRevocation(new OktaClient({ orgUrl: okta.url, auth: { type: 'ssws', token: okta.apiToken } }), {
      userTemplate: '{user}@acme.com',
      unassignAppId: '0oaDropbox',
    });
  });
  after(() => okta.stop());

  test('clears sessions with oauthTokens=true, unassigns a direct assignment (verified), and restores it on release', async () => {
    okta.assignments.get('0oaDropbox')?.set(userId, 'USER');
    const outcome = await client.revoke(who('jdoe'));
    assert.equal(outcome.status, 'done');
    assert.deepEqual(okta.sessionsCleared, ['jdoe@acme.com']);
    assert.equal(okta.calls('DELETE', `/api/v1/users/${userId}/sessions`)[0]?.headers.authorization, `SSWS ${okta.apiToken}`);
    assert.equal(okta.assignments.get('0oaDropbox')?.has(userId), false);
    assert.equal(outcome.ref?.appAssignment, 'removed');
    assert.match(outcome.detail, /App 0oaDropbox unassigned \(verified\)/);

    // A retry after Okta already acted: the assignment is gone, which is success; nothing is unassigned twice.
    const again = await client.revoke(who('jdoe'));
    assert.match(again.detail, /was not assigned \(nothing to unassign\)/);
    assert.equal(okta.calls('DELETE', `/api/v1/apps/0oaDropbox/users/${userId}`).length, 1);

    const restored = await client.restore(who('jdoe', outcome.ref));
    assert.match(restored.detail, /re-assigned/);
    assert.equal(okta.assignments.get('0oaDropbox')?.get(userId), 'USER');
    assert.deepEqual(okta.calls('POST', '/api/v1/apps/0oaDropbox/users')[0]?.json, { id: userId, scope: 'USER' });
  });

  test('an attempt that unassigned the app and died is credited on retry, so the release restores it', async () => {
    okta.assignments.get('0oaDropbox')?.set(userId, 'USER');
    const first = actionContext();
    await client.revoke(who('jdoe'), first);
    assert.deepEqual(first.last(), { oktaUnassigning: `0oaDropbox/${userId}` });
    // The retry sees the assignment gone and the earlier attempt's heartbeat.
    const retry = await client.revoke(who('jdoe'), actionContext(first.last()));
    assert.equal(retry.ref?.appAssignment, 'removed');
    assert.match(retry.detail, /by an earlier attempt/);
    // Without that heartbeat, a missing assignment is someone else's doing and is not claimed.
    const fresh = await client.revoke(who('jdoe'), actionContext());
    assert.equal(fresh.ref?.appAssignment, undefined);
    await client.restore(who('jdoe', retry.ref));
  });

  test('a group-assigned app is reported, not removed', async () => {
    const id = okta.users.get('grp@acme.com')?.id ?? '';
    okta.assignments.get('0oaDropbox')?.set(id, 'GROUP');
    const outcome = await client.revoke(who('grp'));
    assert.match(outcome.detail, /assigned through a group \(scope GROUP\): NOT unassigned/);
    assert.equal(okta.calls('DELETE', `/api/v1/apps/0oaDropbox/users/${id}`).length, 0);
  });

  test("403 names okta.users.manage; 429 honours X-Rate-Limit-Reset; 401 with Okta's error body", async () => {
    okta.inject('DELETE', `/api/v1/users/${userId}/sessions`, {
      status: 403,
      body: { errorCode: 'E0000006', errorSummary: 'You do not have permission to perform the requested action', errorCauses: [] },
    });
    await assert.rejects(client.revoke(who('jdoe')), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(
        err.message,
        /^okta: clear sessions and OAuth tokens of jdoe@acme\.com: HTTP 403 .*E0000006.*needs permission: .*okta\.users\.manage/,
      );
      return true;
    });
    const reset = Math.floor(Date.now() / 1000) + 20;
    okta.inject('GET', '/api/v1/users/jdoe%40acme.com', {
      status: 429,
      headers: { 'x-rate-limit-limit': '600', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
      body: { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.', errorCauses: [] },
    });
    await assert.rejects(client.revoke(who('jdoe')), (err: Error) => {
      assert.ok(
        err instanceof ConnectorRateLimitedError && err.retryAfterMs !== null && err.retryAfterMs > 18_000 && err.retryAfterMs <= 20_000,
      );
      return true;
    });
    const bad = new OktaSessionRevocation(new OktaClient({ orgUrl: okta.url, auth: { type: 'ssws', token: 'nope' } }), {
      userTemplate: '{user}@acme.com',
    });
    await assert.rejects(
      bad.revoke(who('jdoe')),
      (err: Error) => err instanceof ConnectorAuthError && /Invalid token provided/.test(err.message),
    );
  });
});

describe('Google Workspace: Admin SDK users.signOut with a service-account JWT', () => {
  let google: FakeGoogle;
  let client: GoogleSignOut;
  before(async () => {
    google = await new FakeGoogle().start();
    google.addUser('jdoe@acme.com');
    client = new GoogleSignOut({
      baseUrl: google.url,
      serviceAccountKeyJson: google.keyJson(),
      subject: google.subject,
      userTemplate: '{user}@acme.com',
    });
  });
  after(() => google.stop());

  test('exchanges an RS256-signed JWT (verified by the stand-in) for a token and signs the user out', async () => {
    const outcome = await client.revoke(who('jdoe'));
    assert.equal(outcome.status, 'done');
    assert.deepEqual(google.signedOut, ['jdoe@acme.com']);
    assert.equal(google.lastClaims?.scope, 'https://www.googleapis.com/auth/admin.directory.user.security');
    assert.equal(google.lastClaims?.sub, google.subject);
    assert.equal(google.lastClaims?.iss, google.clientEmail);
    assert.equal((google.lastClaims?.exp as number) - (google.lastClaims?.iat as number), 3600);
    await client.revoke(who('jdoe'));
    assert.equal(google.tokenRequests, 1, 'the token is cached');
  });

  test('a key that does not match is refused by the token endpoint as an auth failure', async () => {
    const other = new FakeGoogle();
    const key = JSON.parse(other.keyJson()) as Record<string, string>;
    const forged = JSON.stringify({ ...key, client_email: google.clientEmail, token_uri: `${google.url}/token` });
    const bad = new GoogleSignOut({
      baseUrl: google.url,
      serviceAccountKeyJson: forged,
      subject: google.subject,
      userTemplate: '{user}@acme.com',
    });
    await assert.rejects(bad.revoke(who('jdoe')), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError, err.message);
      assert.match(err.message, /^google-workspace: obtain an access token: the token endpoint refused the credentials \(invalid_grant\)/);
      return true;
    });
    assert.throws(
      () => new GoogleSignOut({ baseUrl: google.url, serviceAccountKeyJson: '{"type":"user"}', subject: 's', userTemplate: '{user}' }),
      ConnectorConfigurationError,
    );
  });

  test("403 names the delegated scope; Google's 403 rateLimitExceeded is a rate limit; 429 too", async () => {
    const path = `/admin/directory/v1/users/${encodeURIComponent('jdoe@acme.com')}/signOut`;
    google.inject('POST', path, {
      status: 403,
      body: {
        error: { code: 403, message: 'Not Authorized to access this resource/api', errors: [{ reason: 'forbidden', domain: 'global' }] },
      },
    });
    await assert.rejects(client.revoke(who('jdoe')), (err: Error) => {
      assert.ok(err instanceof ConnectorAuthError);
      assert.match(
        err.message,
        /needs permission: domain-wide delegation of https:\/\/www\.googleapis\.com\/auth\/admin\.directory\.user\.security/,
      );
      return true;
    });
    google.inject('POST', path, {
      status: 403,
      body: { error: { code: 403, message: 'Quota exceeded', errors: [{ reason: 'userRateLimitExceeded', domain: 'usageLimits' }] } },
    });
    await assert.rejects(client.revoke(who('jdoe')), ConnectorRateLimitedError);
    google.inject('POST', path, {
      status: 429,
      headers: { 'retry-after': '2' },
      body: { error: { code: 429, message: 'Rate Limit Exceeded' } },
    });
    await assert.rejects(client.revoke(who('jdoe')), (err: Error) => err instanceof ConnectorRateLimitedError && err.retryAfterMs === 2000);
  });
});

describe('Dropbox Business: team member suspend', () => {
  let dropbox: FakeDropbox;
  let client: DropboxMemberSuspension;
  before(async () => {
    dropbox = await new FakeDropbox().start();
    dropbox.addMember('jdoe@acme.com');
    dropbox.addMember('already@acme.com', 'suspended');
    client = new DropboxMemberSuspension({ baseUrl: dropbox.url, accessToken: dropbox.accessToken, userTemplate: '{user}@acme.com' });
  });
  after(() => dropbox.stop());

  test('suspends (keeping data), verifies the status, and unsuspends on release', async () => {
    const outcome = await client.revoke(who('jdoe'));
    assert.equal(outcome.status, 'done');
    assert.equal(dropbox.members.get('jdoe@acme.com')?.status, 'suspended');
    assert.deepEqual(dropbox.calls('POST', '/2/team/members/suspend')[0]?.json, {
      user: { '.tag': 'email', email: 'jdoe@acme.com' },
      wipe_data: false,
    });
    assert.equal(outcome.ref?.suspendedByRun, 'true');
    const again = await client.revoke(who('jdoe'));
    assert.equal(again.alreadyInState, true);
    assert.equal(dropbox.calls('POST', '/2/team/members/suspend').length, 1);
    const restored = await client.restore(who('jdoe', outcome.ref));
    assert.match(restored.detail, /unsuspended \(verified\)/);
    assert.equal(dropbox.members.get('jdoe@acme.com')?.status, 'active');
  });

  test('an attempt that suspended and died is credited on retry; without its heartbeat the suspension is not claimed', async () => {
    dropbox.addMember('crash@acme.com');
    const first = actionContext();
    await client.revoke(who('crash'), first);
    assert.deepEqual(first.last(), { dropboxSuspending: 'crash@acme.com' });
    const retry = await client.revoke(who('crash'), actionContext(first.last()));
    assert.equal(retry.ref?.suspendedByRun, 'true');
    const stranger = await client.revoke(who('crash'), actionContext());
    assert.equal(stranger.ref?.suspendedByRun, 'false');
  });

  test('a member someone else suspended is success and is never unsuspended by this run', async () => {
    const outcome = await client.revoke(who('already'));
    assert.equal(outcome.alreadyInState, true);
    const restored = await client.restore(who('already', outcome.ref));
    assert.match(restored.detail, /not suspended by this run; left as it is/);
    assert.equal(dropbox.members.get('already@acme.com')?.status, 'suspended');
    assert.equal(dropbox.calls('POST', '/2/team/members/unsuspend').length, 1);
  });

  test('an unknown member is not-found; missing scope is an auth error naming members.write; 409 is not retried', async () => {
    await assert.rejects(client.revoke(who('ghost')), ConnectorNotFoundError);
    dropbox.inject('POST', '/2/team/members/get_info_v2', {
      status: 401,
      body: { error_summary: 'missing_scope/..', error: { '.tag': 'missing_scope', required_scope: 'members.read' } },
    });
    await assert.rejects(
      client.revoke(who('jdoe')),
      (err: Error) => err instanceof ConnectorAuthError && /members\.write/.test(err.message),
    );
    dropbox.members.set('jdoe@acme.com', { id: 'x', status: 'active' });
    dropbox.inject('POST', '/2/team/members/suspend', {
      status: 409,
      body: { error_summary: 'team_license_limit/..', error: { '.tag': 'team_license_limit' } },
    });
    await assert.rejects(client.revoke(who('jdoe')), ConnectorInvalidResponseError);
  });
});
