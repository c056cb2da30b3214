/**
 * A stand-in for Slack on 127.0.0.1, for the real @slack/web-api client (`slackApiUrl` points here).
 *
 * Web API side: chat.postMessage, chat.update, usergroups.users.list, users.info and auth.test, accepting Slack's
 * form-encoded and JSON request encodings with the bot token as a Bearer header (or a `token` field), answering
 * `{ok: true, ...}` or `{ok: false, error}` with HTTP 200 as Slack does, and 429 with `Retry-After` when told to.
 *
 * User side: `click()` plays a person pressing a button: it builds a `block_actions` payload of Slack's shape from
 * the message as posted, form-encodes it as `payload=<json>`, signs it with the signing secret (`v0` HMAC-SHA256
 * over `v0:{timestamp}:{body}`, computed here independently of the code under test) and posts it to the app. The
 * `response_url` it hands out points back here, so what the app tells the clicker is recorded too.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { StandIn, type RecordedRequest, type StandInResponse } from './stand-in';

export interface SlackUser {
  name: string;
  email?: string;
  deleted?: boolean;
  is_bot?: boolean;
}

export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Record<string, unknown>[];
  thread_ts?: string;
  /** Versions after each chat.update, oldest first. */
  edits: { text: string; blocks: Record<string, unknown>[] }[];
}

export interface Click {
  user: string;
  message: PostedMessage;
  actionId: string;
  /** Replace the button's value (a tampered or old button). */
  value?: string;
  timestamp?: number;
  secret?: string;
  team?: string;
  appId?: string;
  actionTs?: string;
}

export class SlackStandIn {
  readonly http = new StandIn();
  readonly token = 'xoxb-000000000-test-token';
  readonly signingSecret = 'stand-in-signing-secret-0123456789abcdef';
  readonly teamId = 'T0TEST001';
  readonly appId = 'A0TEST001';
  readonly messages: PostedMessage[] = [];
  /** What the app posted to each response_url: the clicker's ephemeral outcomes. */
  readonly responses: { text: string; response_type: string; replace_original: boolean }[] = [];
  /** Every Web API call, in order, with when it arrived. */
  readonly calls: { method: string; at: number; args: Record<string, unknown>; encoding: 'form' | 'json' }[] = [];
  users: Record<string, SlackUser> = {};
  groups: Record<string, string[]> = {};
  /** Canned answers served (and consumed) before the normal ones, per method, for requests that match. */
  readonly failures = new Map<string, { when: (args: string) => boolean; answer: StandInResponse }[]>();
  private seq = 0;

  get url(): string {
    return this.http.url;
  }
  get apiUrl(): string {
    return `${this.http.url}/api/`;
  }

  async start(): Promise<this> {
    await this.http.start();
    const methods: Record<string, (args: Record<string, unknown>) => StandInResponse> = {
      'auth.test': () =>
        ok({ url: 'https://acme.slack.com/', team: 'Acme', user: 'soar', team_id: this.teamId, user_id: 'U0BOT0001', bot_id: 'B0BOT0001' }),
      'chat.postMessage': (a) => this.postMessage(a),
      'chat.update': (a) => this.update(a),
      'usergroups.users.list': (a) => {
        const users = this.groups[String(a.usergroup)];
        return users ? ok({ users }) : fail('no_such_subteam');
      },
      'users.info': (a) => {
        const id = String(a.user);
        const u = this.users[id];
        if (!u) return fail('user_not_found');
        return ok({
          user: {
            id,
            team_id: this.teamId,
            name: u.name,
            deleted: u.deleted ?? false,
            is_bot: u.is_bot ?? false,
            profile: { email: u.email, real_name: u.name },
          },
        });
      },
    };
    for (const [method, handler] of Object.entries(methods)) {
      this.http.on('POST', `/api/${method}`, (req) => {
        const args = parseArgs(req);
        const encoding = String(req.headers['content-type'] ?? '').startsWith('application/json') ? 'json' : 'form';
        this.calls.push({ method, at: Date.now(), args, encoding });
        const queue = this.failures.get(method) ?? [];
        const at = queue.findIndex((f) => f.when(JSON.stringify(args)));
        if (at >= 0) return queue.splice(at, 1)[0]?.answer ?? {};
        const token = bearer(req) ?? (typeof args.token === 'string' ? args.token : undefined);
        if (!token) return fail('not_authed');
        if (token !== this.token) return fail('invalid_auth');
        return handler(args);
      });
    }
    return this;
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  /**
   * Serve these answers to the next calls of a method whose arguments contain `marker` (e.g. a workflow ID, so
   * other runs are not affected), before normal service resumes.
   */
  failNext(method: string, marker: string, ...answers: StandInResponse[]): void {
    const when = (args: string) => args.includes(marker);
    this.failures.set(method, [...(this.failures.get(method) ?? []), ...answers.map((answer) => ({ when, answer }))]);
  }

  /** Top-level messages (not thread replies) in a channel. */
  topLevel(channel?: string): PostedMessage[] {
    return this.messages.filter((m) => !m.thread_ts && (channel === undefined || m.channel === channel));
  }

  thread(message: PostedMessage): PostedMessage[] {
    return this.messages.filter((m) => m.thread_ts === message.ts && m.channel === message.channel);
  }

  private postMessage(a: Record<string, unknown>): StandInResponse {
    if (typeof a.channel !== 'string' || !/^[CGD][A-Z0-9]+$/.test(a.channel)) return fail('channel_not_found');
    if (typeof a.text !== 'string' && a.blocks === undefined) return fail('no_text');
    this.seq++;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(this.seq).padStart(6, '0')}`;
    const message: PostedMessage = {
      channel: a.channel,
      ts,
      text: typeof a.text === 'string' ? a.text : '',
      blocks: blocksOf(a.blocks),
      ...(typeof a.thread_ts === 'string' ? { thread_ts: a.thread_ts } : {}),
      edits: [],
    };
    this.messages.push(message);
    return ok({ channel: a.channel, ts, message: { type: 'message', text: message.text, ts } });
  }

  private update(a: Record<string, unknown>): StandInResponse {
    const message = this.messages.find((m) => m.channel === a.channel && m.ts === a.ts);
    if (!message) return fail('message_not_found');
    const text = typeof a.text === 'string' ? a.text : message.text;
    message.edits.push({ text, blocks: blocksOf(a.blocks) });
    message.text = text;
    message.blocks = blocksOf(a.blocks);
    return ok({ channel: message.channel, ts: message.ts, text: message.text });
  }

  /** The signed HTTP request Slack would send for this click: body and headers. */
  signedClick(click: Click): { body: string; headers: Record<string, string>; payload: Record<string, unknown> } {
    const button = findButton(click.message.blocks, click.actionId);
    const user = this.users[click.user];
    this.seq++;
    const responsePath = `/actions/${this.teamId}/${this.seq}/${randomBytes(8).toString('hex')}`;
    this.http.on('POST', responsePath, (req) => {
      this.responses.push(req.json as SlackStandIn['responses'][number]);
      return { status: 200, body: 'ok' };
    });
    const payload = {
      type: 'block_actions',
      user: { id: click.user, username: user?.name ?? 'someone', name: user?.name ?? 'someone', team_id: click.team ?? this.teamId },
      api_app_id: click.appId ?? this.appId,
      token: 'legacy-verification-token',
      container: { type: 'message', message_ts: click.message.ts, channel_id: click.message.channel, is_ephemeral: false },
      trigger_id: `${this.seq}.${Date.now()}.${randomBytes(4).toString('hex')}`,
      team: { id: click.team ?? this.teamId, domain: 'acme' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: click.message.channel, name: 'soc-approvals' },
      message: {
        type: 'message',
        user: 'U0BOT0001',
        ts: click.message.ts,
        bot_id: 'B0BOT0001',
        text: click.message.text,
        blocks: click.message.blocks,
      },
      state: { values: {} },
      response_url: `${this.http.url}${responsePath}`,
      actions: [
        {
          action_id: click.actionId,
          block_id: button.blockId,
          text: button.text,
          value: click.value ?? button.value,
          ...(button.style ? { style: button.style } : {}),
          type: 'button',
          action_ts: click.actionTs ?? `${(Date.now() / 1000).toFixed(6)}`,
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = String(click.timestamp ?? Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', click.secret ?? this.signingSecret)
      .update(`v0:${timestamp}:${body}`)
      .digest('hex')}`;
    return {
      body,
      payload,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': signature,
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      },
    };
  }

  /** Clicks: posts the signed request to the app's interaction endpoint. */
  async click(appBase: string, click: Click): Promise<Response> {
    const { body, headers } = this.signedClick(click);
    return fetch(`${appBase}/slack/interactions`, { method: 'POST', headers, body });
  }
}

const ok = (body: Record<string, unknown>): StandInResponse => ({ status: 200, body: { ok: true, ...body } });
const fail = (error: string): StandInResponse => ({ status: 200, body: { ok: false, error } });

function bearer(req: RecordedRequest): string | undefined {
  const header = req.headers.authorization;
  return typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/** Slack accepts form-encoded arguments (objects as JSON strings) or a JSON body. */
function parseArgs(req: RecordedRequest): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('application/json')) return (req.json as Record<string, unknown>) ?? {};
  return Object.fromEntries(new URLSearchParams(req.body));
}

function blocksOf(value: unknown): Record<string, unknown>[] {
  if (value === undefined) return [];
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? (parsed as Record<string, unknown>[]) : [];
}

function findButton(blocks: Record<string, unknown>[], actionId: string) {
  for (const block of blocks) {
    if (block.type !== 'actions') continue;
    for (const element of (block.elements as Record<string, unknown>[]) ?? []) {
      if (element.action_id === actionId) {
        return {
          blockId: String(block.block_id),
          value: String(element.value),
          text: element.text,
          style: element.style as string | undefined,
        };
      }
    }
  }
  throw new Error(`no button ${actionId} on message`);
}

/** All mrkdwn and plain text in a message's blocks, for assertions. */
export function textOf(blocks: Record<string, unknown>[]): string {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
      for (const v of Object.values(o)) if (typeof v === 'object') walk(v);
    }
  };
  walk(blocks);
  return out.join('\n');
}
