/**
 * Stateful stand-ins on 127.0.0.1 for the containment vendors, speaking each one's documented wire format: token
 * endpoints, lookups, actions, asynchronous state transitions (pending for a few reads, then final) and the
 * vendors' own error bodies. `inject` queues canned answers (errors, rate limits) ahead of the normal behaviour.
 */
import { createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';
import { StandIn, type Handler, type RecordedRequest, type StandInResponse } from './stand-in';

/** Wraps the handling of a request: may act before, after (the vendor already acted) or instead of `next`. */
export type Around = (req: RecordedRequest, next: () => Promise<StandInResponse>) => Promise<StandInResponse>;

class VendorFake {
  readonly http = new StandIn();
  private readonly queued = new Map<string, StandInResponse[]>();
  private readonly delays = new Map<string, number[]>();
  private readonly arounds = new Map<string, Around>();
  private readonly arrivals: { key: string; at: number }[] = [];
  tokenRequests = 0;

  get url(): string {
    return this.http.url;
  }

  async start(): Promise<this> {
    await this.http.start();
    return this;
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  /** The next answers of `METHOD path`, ahead of the normal behaviour. */
  inject(method: string, path: string, ...responses: StandInResponse[]): this {
    const key = `${method.toUpperCase()} ${path}`;
    this.queued.set(key, [...(this.queued.get(key) ?? []), ...responses]);
    return this;
  }

  /**
   * The next `times` answers of `METHOD path` come `ms` late: the vendor has acted (the request was handled) but the
   * caller may have given up waiting, as with a slow vendor.
   */
  delay(method: string, path: string, ms: number, times = 1): this {
    const key = `${method.toUpperCase()} ${path}`;
    this.delays.set(key, [...(this.delays.get(key) ?? []), ...Array.from({ length: times }, () => ms)]);
    return this;
  }

  /** Every later request to `METHOD path` goes through `around` (chaos tests: a crash right before or after). */
  around(method: string, path: string, around: Around): this {
    this.arounds.set(`${method.toUpperCase()} ${path}`, around);
    return this;
  }

  protected route(method: string, path: string, handler: Handler): void {
    const key = `${method.toUpperCase()} ${path}`;
    this.http.on(method, path, async (req) => {
      this.arrivals.push({ key, at: Date.now() });
      const handle = async () => {
        const next = this.queued.get(key)?.shift();
        const answer = next ?? (await handler(req));
        const late = this.delays.get(key)?.shift();
        if (late) await new Promise((r) => setTimeout(r, late));
        return answer;
      };
      const around = this.arounds.get(key);
      return around ? around(req, handle) : handle();
    });
  }

  /** When each request to `METHOD path` arrived (ms since the epoch). */
  timesOf(method: string, path: string): number[] {
    const key = `${method.toUpperCase()} ${path}`;
    return this.arrivals.filter((a) => a.key === key).map((a) => a.at);
  }

  calls(method: string, path: string): RecordedRequest[] {
    return this.http.calls(method, path);
  }
}

const form = (req: RecordedRequest) => new URLSearchParams(req.body);

// ---------------------------------------------------------------------------------------------------------------
// CrowdStrike Falcon

export interface FalconDevice {
  device_id: string;
  hostname: string;
  status: 'normal' | 'containment_pending' | 'contained' | 'lift_containment_pending';
  /** Reads left before a pending status becomes final. */
  pendingReads: number;
}

export class FakeCrowdStrike extends VendorFake {
  readonly devices = new Map<string, FalconDevice>();
  readonly clientId = 'falcon-client';
  readonly clientSecret = 'falcon-secret-value';
  /** Reads a new action stays pending for. */
  pendingReads = 2;
  /** While true, pending actions never complete (the vendor is slow). */
  hold = false;
  private tokens = new Set<string>();

  constructor() {
    super();
    this.route('POST', '/oauth2/token', (req) => {
      this.tokenRequests++;
      const f = form(req);
      if (f.get('client_id') !== this.clientId || f.get('client_secret') !== this.clientSecret) {
        return { status: 401, body: { meta: { query_time: 0.01 }, errors: [{ code: 401, message: 'access denied, invalid client' }] } };
      }
      const token = `falcon-token-${randomUUID()}`;
      this.tokens.add(token);
      return { status: 201, body: { access_token: token, token_type: 'bearer', expires_in: 1799 } };
    });
    this.route('GET', '/devices/queries/devices/v1', (req) =>
      this.authed(req, () => {
        const m = /^hostname:'([^']*)'$/.exec(req.query.get('filter') ?? '');
        if (!m) return { status: 400, body: { errors: [{ code: 400, message: 'Invalid filter' }], resources: null } };
        const host = (m[1] ?? '').toLowerCase();
        const ids = [...this.devices.values()].filter((d) => d.hostname.toLowerCase() === host).map((d) => d.device_id);
        return { body: { meta: { pagination: { total: ids.length } }, resources: ids, errors: [] } };
      }),
    );
    this.route('GET', '/devices/entities/devices/v2', (req) =>
      this.authed(req, () => {
        const resources = req.query.getAll('ids').flatMap((id) => {
          const d = this.devices.get(id);
          if (!d) return [];
          this.advance(d);
          return [{ device_id: d.device_id, hostname: d.hostname, status: d.status }];
        });
        return { body: { meta: {}, resources, errors: [] } };
      }),
    );
    this.route('POST', '/devices/entities/devices-actions/v2', (req) =>
      this.authed(req, () => {
        const action = req.query.get('action_name');
        const ids = (req.json as { ids?: string[] } | undefined)?.ids ?? [];
        if (ids.length === 0) return { status: 400, body: { errors: [{ code: 400, message: 'ids is required' }], resources: null } };
        const resources = [];
        for (const id of ids) {
          const d = this.devices.get(id);
          if (!d) return { status: 404, body: { errors: [{ code: 404, message: `device ${id} not found` }], resources: null } };
          if (action === 'contain' && d.status !== 'contained') d.status = 'containment_pending';
          else if (action === 'lift_containment' && d.status !== 'normal') d.status = 'lift_containment_pending';
          else if (action !== 'contain' && action !== 'lift_containment') {
            return { status: 400, body: { errors: [{ code: 400, message: `invalid action_name ${action}` }], resources: null } };
          }
          d.pendingReads = this.pendingReads;
          resources.push({ id, path: '' });
        }
        return { status: 202, body: { meta: {}, resources, errors: [] } };
      }),
    );
  }

  addDevice(hostname: string, status: FalconDevice['status'] = 'normal'): string {
    const id = randomUUID().replaceAll('-', '');
    this.devices.set(id, { device_id: id, hostname, status, pendingReads: this.pendingReads });
    return id;
  }

  actionCalls(action: 'contain' | 'lift_containment'): RecordedRequest[] {
    return this.calls('POST', '/devices/entities/devices-actions/v2').filter((r) => r.query.get('action_name') === action);
  }

  private advance(d: FalconDevice): void {
    if (this.hold || (d.status !== 'containment_pending' && d.status !== 'lift_containment_pending')) return;
    if (d.pendingReads > 0) {
      d.pendingReads--;
      return;
    }
    d.status = d.status === 'containment_pending' ? 'contained' : 'normal';
  }

  private authed(req: RecordedRequest, then: () => StandInResponse): StandInResponse {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!this.tokens.has(token)) {
      return { status: 401, body: { meta: {}, errors: [{ code: 401, message: 'access denied, invalid bearer token' }] } };
    }
    return then();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Microsoft identity platform (Entra ID) token endpoint, shared by Defender and Graph stand-ins

export const ENTRA_TENANT = 'contoso.onmicrosoft.com';

function entraToken(fake: VendorFake & { clientSecret: string; tokens: Set<string> }, scope: string): Handler {
  return (req) => {
    fake.tokenRequests++;
    const f = form(req);
    if (f.get('grant_type') !== 'client_credentials' || f.get('scope') !== scope) {
      return {
        status: 400,
        body: { error: 'invalid_scope', error_description: 'AADSTS70011: The provided value for scope is not valid.' },
      };
    }
    if (f.get('client_secret') !== fake.clientSecret) {
      return {
        status: 401,
        body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] },
      };
    }
    const token = `entra-${randomUUID()}`;
    fake.tokens.add(token);
    return { body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token } };
  };
}

const graphStyleUnauthorized: StandInResponse = {
  status: 401,
  body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' } },
};

// ---------------------------------------------------------------------------------------------------------------
// Microsoft Defender for Endpoint

interface MachineAction {
  id: string;
  type: 'Isolate' | 'Unisolate';
  status: 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'TimeOut' | 'Cancelled';
  machineId: string;
  creationDateTimeUtc: string;
  reads: number;
  requestor: string;
  requestorComment: string;
}

export class FakeDefender extends VendorFake {
  readonly clientSecret = 'defender-secret-value';
  readonly tokens = new Set<string>();
  readonly machines = new Map<string, { id: string; computerDnsName: string }>();
  readonly actions: MachineAction[] = [];
  pendingReads = 2;
  /** The final status new actions reach. */
  finalStatus: MachineAction['status'] = 'Succeeded';
  readonly tokenPath = `/${ENTRA_TENANT}/oauth2/v2.0/token`;

  constructor() {
    super();
    this.route('POST', this.tokenPath, entraToken(this, 'https://api.securitycenter.microsoft.com/.default'));
    this.route('GET', '/api/machines', (req) =>
      this.authed(req, () => {
        const m = /^startswith\(computerDnsName,'([^']*)'\)$/.exec(req.query.get('$filter') ?? '');
        if (!m) return { status: 400, body: { error: { code: 'InvalidRequestBody', message: 'Invalid filter' } } };
        const prefix = m[1] ?? '';
        const value = [...this.machines.values()].filter((x) => x.computerDnsName.toLowerCase().startsWith(prefix));
        return { body: { '@odata.context': 'https://api.securitycenter.microsoft.com/api/$metadata#Machines', value } };
      }),
    );
    this.route('GET', '/api/machineactions', (req) =>
      this.authed(req, () => {
        const m = /^machineId eq '([^']*)'$/.exec(req.query.get('$filter') ?? '');
        const value = this.actions.filter((a) => !m || a.machineId === m[1]).map((a) => this.view(a, false));
        return { body: { '@odata.context': 'https://api.securitycenter.microsoft.com/api/$metadata#MachineActions', value } };
      }),
    );
  }

  addMachine(computerDnsName: string): string {
    const id = randomUUID().replaceAll('-', '').slice(0, 40);
    this.machines.set(id, { id, computerDnsName });
    for (const verb of ['isolate', 'unisolate'] as const) {
      this.route('POST', `/api/machines/${id}/${verb}`, (req) => this.authed(req, () => this.act(id, verb, req)));
    }
    return id;
  }

  /** Records an action made outside the run (by default an analyst's, with their comment). */
  addAction(
    machineId: string,
    type: MachineAction['type'],
    status: MachineAction['status'],
    by: { requestor: string; requestorComment: string } = { requestor: 'analyst@contoso.com', requestorComment: 'isolated by hand' },
  ): MachineAction {
    const action: MachineAction = {
      id: randomUUID(),
      type,
      status,
      machineId,
      creationDateTimeUtc: new Date(Date.now() - 60_000 + this.actions.length).toISOString(),
      reads: this.pendingReads,
      ...by,
    };
    this.actions.push(action);
    this.route('GET', `/api/machineactions/${action.id}`, (req) => this.authed(req, () => ({ body: this.view(action, true) })));
    return action;
  }

  private act(machineId: string, verb: 'isolate' | 'unisolate', req: RecordedRequest): StandInResponse {
    const type = verb === 'isolate' ? 'Isolate' : 'Unisolate';
    const body = req.json as { Comment?: string; IsolationType?: string } | undefined;
    if (!body?.Comment || (verb === 'isolate' && !['Full', 'Selective'].includes(body.IsolationType ?? ''))) {
      return { status: 400, body: { error: { code: 'InvalidRequestBody', message: 'Comment and IsolationType are required' } } };
    }
    if (this.actions.some((a) => a.machineId === machineId && a.type === type && (a.status === 'Pending' || a.status === 'InProgress'))) {
      return {
        status: 400,
        body: { error: { code: 'ActiveRequestAlreadyExists', message: 'Action is already in progress', target: randomUUID() } },
      };
    }
    // The app's identity is the requestor; the request's Comment becomes requestorComment.
    const action = this.addAction(machineId, type, 'Pending', { requestor: 'soar-app@contoso.com', requestorComment: body.Comment });
    action.creationDateTimeUtc = new Date().toISOString();
    return { status: 201, body: this.view(action, false) };
  }

  private view(a: MachineAction, advance: boolean) {
    if (advance && (a.status === 'Pending' || a.status === 'InProgress')) {
      if (a.reads > 0) {
        a.reads--;
        a.status = 'InProgress';
      } else {
        a.status = this.finalStatus;
      }
    }
    const { reads: _reads, ...rest } = a;
    return {
      ...rest,
      scope: 'Full',
      lastUpdateDateTimeUtc: a.creationDateTimeUtc,
    };
  }

  private authed(req: RecordedRequest, then: () => StandInResponse): StandInResponse {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    return this.tokens.has(token) ? then() : graphStyleUnauthorized;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SentinelOne

export class FakeSentinelOne extends VendorFake {
  readonly apiToken = 's1-api-token-value';
  readonly agents = new Map<string, { id: string; computerName: string; networkStatus: string; reads: number }>();
  pendingReads = 2;
  /** Overrides `data.affected` of the next actions (e.g. 0). */
  affectedOverride: number | null = null;

  constructor() {
    super();
    const unauthorized: StandInResponse = {
      status: 401,
      body: { errors: [{ code: 4010010, detail: null, title: 'Authentication Failed' }] },
    };
    const authed = (req: RecordedRequest, then: () => StandInResponse) =>
      req.headers.authorization === `ApiToken ${this.apiToken}` ? then() : unauthorized;
    this.route('GET', '/web/api/v2.1/agents', (req) =>
      authed(req, () => {
        const name = req.query.get('computerName');
        const ids = req.query.get('ids')?.split(',');
        const data = [...this.agents.values()]
          .filter((a) => (name ? a.computerName.toLowerCase() === name.toLowerCase() : ids ? ids.includes(a.id) : true))
          .map((a) => {
            if (ids) this.advance(a);
            return { id: a.id, computerName: a.computerName, networkStatus: a.networkStatus, isActive: true };
          });
        return { body: { data, pagination: { totalItems: data.length, nextCursor: null } } };
      }),
    );
    for (const verb of ['disconnect', 'connect'] as const) {
      this.route('POST', `/web/api/v2.1/agents/actions/${verb}`, (req) =>
        authed(req, () => {
          const ids = (req.json as { filter?: { ids?: string[] } } | undefined)?.filter?.ids;
          if (!ids || ids.length === 0) {
            return { status: 400, body: { errors: [{ code: 4000010, detail: 'filter is required', title: 'Validation Error' }] } };
          }
          let affected = 0;
          for (const id of ids) {
            const a = this.agents.get(id);
            if (!a) continue;
            a.networkStatus = verb === 'disconnect' ? 'disconnecting' : 'connecting';
            a.reads = this.pendingReads;
            affected++;
          }
          return { body: { data: { affected: this.affectedOverride ?? affected } } };
        }),
      );
    }
  }

  addAgent(computerName: string, networkStatus = 'connected'): string {
    const id = String(1_000_000_000 + this.agents.size * 7919);
    this.agents.set(id, { id, computerName, networkStatus, reads: this.pendingReads });
    return id;
  }

  private advance(a: { networkStatus: string; reads: number }): void {
    if (a.networkStatus !== 'disconnecting' && a.networkStatus !== 'connecting') return;
    if (a.reads > 0) {
      a.reads--;
      return;
    }
    a.networkStatus = a.networkStatus === 'disconnecting' ? 'disconnected' : 'connected';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Microsoft Graph

export class FakeGraph extends VendorFake {
  readonly clientSecret = 'graph-secret-value';
  readonly tokens = new Set<string>();
  readonly users = new Set<string>();
  readonly revoked: string[] = [];
  readonly tokenPath = `/${ENTRA_TENANT}/oauth2/v2.0/token`;

  constructor() {
    super();
    this.route('POST', this.tokenPath, entraToken(this, 'https://graph.microsoft.com/.default'));
  }

  addUser(upn: string): void {
    this.users.add(upn);
    this.route('POST', `/v1.0/users/${encodeURIComponent(upn)}/revokeSignInSessions`, (req) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!this.tokens.has(token)) return graphStyleUnauthorized;
      this.revoked.push(upn);
      return { body: { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean', value: true } };
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Okta

export class FakeOkta extends VendorFake {
  readonly apiToken = 'okta-ssws-token-value';
  readonly users = new Map<string, { id: string; login: string }>();
  /** appId -> userId -> scope */
  readonly assignments = new Map<string, Map<string, string>>();
  readonly sessionsCleared: string[] = [];

  private authed(req: RecordedRequest, then: () => StandInResponse): StandInResponse {
    if (req.headers.authorization !== `SSWS ${this.apiToken}`) {
      return {
        status: 401,
        body: {
          errorCode: 'E0000011',
          errorSummary: 'Invalid token provided',
          errorLink: 'E0000011',
          errorId: randomUUID(),
          errorCauses: [],
        },
      };
    }
    return then();
  }

  private notFound(what: string): StandInResponse {
    return {
      status: 404,
      body: {
        errorCode: 'E0000007',
        errorSummary: `Not found: Resource not found: ${what} (User)`,
        errorLink: 'E0000007',
        errorId: randomUUID(),
        errorCauses: [],
      },
    };
  }

  addUser(login: string): string {
    const id = `00u${randomUUID().replaceAll('-', '').slice(0, 17)}`;
    this.users.set(login, { id, login });
    this.route('GET', `/api/v1/users/${encodeURIComponent(login)}`, (req) =>
      this.authed(req, () => ({ body: { id, status: 'ACTIVE', profile: { login, email: login }, _links: {} } })),
    );
    this.route('DELETE', `/api/v1/users/${id}/sessions`, (req) =>
      this.authed(req, () => {
        if (req.query.get('oauthTokens') !== 'true')
          return { status: 400, body: { errorCode: 'E0000001', errorSummary: 'expected oauthTokens=true' } };
        this.sessionsCleared.push(login);
        return { status: 204 };
      }),
    );
    return id;
  }

  addApp(appId: string): void {
    const users = new Map<string, string>();
    this.assignments.set(appId, users);
    this.route('POST', `/api/v1/apps/${appId}/users`, (req) =>
      this.authed(req, () => {
        const body = req.json as { id: string; scope?: string };
        users.set(body.id, body.scope ?? 'USER');
        return { body: { id: body.id, scope: body.scope ?? 'USER', status: 'ACTIVE', credentials: {} } };
      }),
    );
    for (const { id } of this.users.values()) this.appUserRoutes(appId, id, users);
  }

  private appUserRoutes(appId: string, userId: string, users: Map<string, string>): void {
    const path = `/api/v1/apps/${appId}/users/${userId}`;
    this.route('GET', path, (req) =>
      this.authed(req, () => {
        const scope = users.get(userId);
        return scope ? { body: { id: userId, scope, status: 'ACTIVE', credentials: {} } } : this.notFound(userId);
      }),
    );
    this.route('DELETE', path, (req) =>
      this.authed(req, () => {
        if (!users.has(userId)) return this.notFound(userId);
        users.delete(userId);
        return { status: 204 };
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Google Workspace (OAuth 2.0 token endpoint for service accounts + Admin SDK Directory)

export class FakeGoogle extends VendorFake {
  readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  readonly clientEmail = 'soar@acme-soar.iam.gserviceaccount.com';
  readonly subject = 'secops-admin@acme.com';
  readonly signedOut: string[] = [];
  readonly tokens = new Set<string>();
  /** The claims of the last assertion that verified. */
  lastClaims: Record<string, unknown> | null = null;

  constructor() {
    super();
    this.route('POST', '/token', (req) => {
      this.tokenRequests++;
      const f = form(req);
      if (f.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
      }
      const [h, p, sig] = (f.get('assertion') ?? '').split('.');
      const verifier = createVerify('RSA-SHA256');
      verifier.update(`${h}.${p}`);
      if (!h || !p || !sig || !verifier.verify(this.keys.publicKey, Buffer.from(sig, 'base64url'))) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
      }
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
      const now = Math.floor(Date.now() / 1000);
      if (claims.iss !== this.clientEmail || claims.aud !== `${this.url}/token` || typeof claims.exp !== 'number' || claims.exp < now) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT: Token must be a short-lived token.' } };
      }
      if (claims.sub !== this.subject)
        return {
          status: 401,
          body: { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method.' },
        };
      this.lastClaims = claims;
      const token = `ya29.${randomUUID()}`;
      this.tokens.add(token);
      return { body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
    });
  }

  keyJson(): string {
    return JSON.stringify({
      type: 'service_account',
      project_id: 'acme-soar',
      private_key_id: 'abc123',
      private_key: this.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: this.clientEmail,
      client_id: '1234567890',
      token_uri: `${this.url}/token`,
    });
  }

  addUser(email: string): void {
    this.route('POST', `/admin/directory/v1/users/${encodeURIComponent(email)}/signOut`, (req) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!this.tokens.has(token)) {
        return {
          status: 401,
          body: { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } },
        };
      }
      this.signedOut.push(email);
      return { status: 204 };
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dropbox Business (team members)

export class FakeDropbox extends VendorFake {
  readonly accessToken = 'dropbox-team-token-value';
  readonly members = new Map<string, { id: string; status: 'active' | 'suspended' | 'invited' }>();

  constructor() {
    super();
    const authed = (req: RecordedRequest, then: () => StandInResponse): StandInResponse =>
      req.headers.authorization === `Bearer ${this.accessToken}`
        ? then()
        : { status: 401, body: { error_summary: 'invalid_access_token/..', error: { '.tag': 'invalid_access_token' } } };
    const selector = (req: RecordedRequest) => (req.json as { user?: { '.tag': string; email?: string } }).user?.email ?? '';
    this.route('POST', '/2/team/members/get_info_v2', (req) =>
      authed(req, () => {
        const wanted = (req.json as { members: { email: string }[] }).members;
        return {
          body: {
            members_info: wanted.map(({ email }) => {
              const m = this.members.get(email);
              return m
                ? {
                    '.tag': 'member_info',
                    profile: { team_member_id: m.id, email, status: { '.tag': m.status }, name: { display_name: email } },
                    roles: [],
                  }
                : { '.tag': 'id_not_found', id_not_found: email };
            }),
          },
        };
      }),
    );
    this.route('POST', '/2/team/members/suspend', (req) =>
      authed(req, () => {
        const m = this.members.get(selector(req));
        if (!m) return { status: 409, body: { error_summary: 'user_not_found/..', error: { '.tag': 'user_not_found' } } };
        if (m.status !== 'active')
          return { status: 409, body: { error_summary: 'suspend_inactive_user/...', error: { '.tag': 'suspend_inactive_user' } } };
        m.status = 'suspended';
        return { body: null };
      }),
    );
    this.route('POST', '/2/team/members/unsuspend', (req) =>
      authed(req, () => {
        const m = this.members.get(selector(req));
        if (!m) return { status: 409, body: { error_summary: 'user_not_found/..', error: { '.tag': 'user_not_found' } } };
        if (m.status !== 'suspended') {
          return {
            status: 409,
            body: { error_summary: 'unsuspend_non_suspended_member/..', error: { '.tag': 'unsuspend_non_suspended_member' } },
          };
        }
        m.status = 'active';
        return { body: null };
      }),
    );
  }

  addMember(email: string, status: 'active' | 'suspended' = 'active'): void {
    this.members.set(email, { id: `dbmid:${randomUUID()}`, status });
  }
}
