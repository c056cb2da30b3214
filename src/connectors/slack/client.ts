/**
 * Approval requests in Slack with @slack/web-api. The client's own retry loop is off (`retries: 0`,
 * `rejectRateLimitedCalls`): Slack's `ok: false` and 429 `Retry-After` become ConnectorErrors, and Temporal retries
 * the activity with the right delay. The token is passed to the client only; it never appears in errors or logs.
 */
import { canonicalName, NO_ORG, type OrgIdentity } from '../../identity/canonical';
import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import type { z } from 'zod';
import type { SlackApprover, SlackMessageRef } from '../../contracts/playbook';
import type { ApprovalNotice, ApprovalNotifier, ApprovalProgress, ApprovalRequest, ContainmentEscalation } from '../../contracts/ports';
import type { Logger } from '../../logger';
import { ConnectorConfigurationError, ConnectorInvalidResponseError } from '../errors';
import { approvalBlocks, fallbackText, progressBlocks, runUrl, statusLine, tier2Blocks, untrusted } from './blocks';
import { PROVIDER, toSlackConnectorError } from './errors';
import { authTestResponse, postMessageResponse, updateResponse, userGroupUsersResponse, usersInfoResponse } from './schemas';

export interface SlackNotifierOptions {
  botToken: string;
  apiUrl: string;
  teamId: string;
  channel: string;
  approvers: { users: string[]; userGroups: string[] };
  userMap: Record<string, string>;
  mapUsersByEmail: boolean;
  /** The organisation's domains: an e-mail at one of them maps to the plain account name, any other stays whole. */
  identity?: OrgIdentity;
  escalation?: { channel?: string | undefined; userGroup?: string | undefined } | undefined;
  uiUrl: string;
  namespace: string;
  logger: Logger;
  timeoutMs?: number;
}

/** Routes the client's own log lines into ours (never to the console). */
function slackLogger(logger: Logger): SlackLogger {
  let level = LogLevel.WARN;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => logger.debug(text(msg)),
    info: (...msg: unknown[]) => logger.info(text(msg)),
    warn: (...msg: unknown[]) => logger.warn(text(msg)),
    error: (...msg: unknown[]) => logger.error(text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

export class SlackApprovalNotifier implements ApprovalNotifier {
  readonly name = PROVIDER;
  private readonly client: WebClient;

  constructor(private readonly options: SlackNotifierOptions) {
    this.client = new WebClient(options.botToken, {
      slackApiUrl: options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs ?? 10_000,
      logger: slackLogger(options.logger),
      logLevel: LogLevel.WARN,
    });
  }

  private async call<S extends z.ZodType>(method: string, args: Record<string, unknown>, schema: S): Promise<z.infer<S>> {
    let result: unknown;
    try {
      result = await this.client.apiCall(method, args);
    } catch (err) {
      throw toSlackConnectorError(method, err);
    }
    const parsed = schema.safeParse(result);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      throw new ConnectorInvalidResponseError(PROVIDER, `${method}: unexpected response (${issues})`);
    }
    return parsed.data;
  }

  private link(workflowId: string): string {
    return runUrl(this.options.uiUrl, this.options.namespace, workflowId);
  }

  /**
   * The approvers now: listed users, members of the approver groups (usergroups.users.list) and of the escalation
   * group, each mapped to a directory user name by `userMap`, else by the local part of their Slack e-mail
   * (users.info; needs users:read.email). Deleted users, bots and users with no name authorise nothing. The token's
   * workspace is checked against the configured team first (auth.test), so a token for another workspace fails closed.
   */
  async resolveApprovers(): Promise<SlackApprover[]> {
    const auth = await this.call('auth.test', {}, authTestResponse);
    if (auth.team_id !== this.options.teamId) {
      throw new ConnectorConfigurationError(
        PROVIDER,
        `the bot token belongs to team ${auth.team_id}, not the configured ${this.options.teamId}`,
      );
    }
    const found = new Map<string, Omit<SlackApprover, 'name' | 'nameSource'>>();
    const add = (userId: string, via: SlackApprover['via'], group: string | null) => {
      if (!found.has(userId)) found.set(userId, { userId, via, group });
    };
    for (const user of this.options.approvers.users) add(user, 'user', null);
    for (const group of this.options.approvers.userGroups) {
      const members = await this.call('usergroups.users.list', { usergroup: group }, userGroupUsersResponse);
      for (const user of members.users) add(user, 'group', group);
    }
    const escalationGroup = this.options.escalation?.userGroup;
    if (escalationGroup) {
      const members = await this.call('usergroups.users.list', { usergroup: escalationGroup }, userGroupUsersResponse);
      for (const user of members.users) add(user, 'escalation-group', escalationGroup);
    }
    const approvers: SlackApprover[] = [];
    for (const entry of found.values()) approvers.push({ ...entry, ...(await this.nameOf(entry.userId)) });
    return approvers;
  }

  private async nameOf(userId: string): Promise<Pick<SlackApprover, 'name' | 'nameSource'>> {
    const org = this.options.identity ?? NO_ORG;
    const mapped = this.options.userMap[userId];
    // A mapped or e-mail name that cannot be canonicalised (a look-alike) maps to nobody: that person decides nothing.
    if (mapped) return { name: canonicalName(mapped, org), nameSource: 'mapping' };
    if (!this.options.mapUsersByEmail) return { name: null, nameSource: null };
    const info = await this.call('users.info', { user: userId }, usersInfoResponse);
    const email = info.user.profile?.email;
    if (info.user.deleted || info.user.is_bot || !email || !email.includes('@')) return { name: null, nameSource: null };
    // The whole address, canonicalised: jdoe@corp.example is jdoe; jdoe@partner.example is someone else.
    const name = canonicalName(email, org);
    return { name, nameSource: name === null ? null : 'email' };
  }

  async requestApproval(request: ApprovalRequest): Promise<ApprovalNotice> {
    const posted = await this.call(
      'chat.postMessage',
      {
        channel: this.options.channel,
        text: fallbackText(request),
        blocks: approvalBlocks(request, this.link(request.workflowId)),
        unfurl_links: false,
        unfurl_media: false,
      },
      postMessageResponse,
    );
    return { via: this.name, message: { channel: posted.channel, ts: posted.ts } };
  }

  private async thread(message: SlackMessageRef | null, text: string): Promise<void> {
    if (!message) return;
    await this.call(
      'chat.postMessage',
      { channel: message.channel, thread_ts: message.ts, text, unfurl_links: false, unfurl_media: false },
      postMessageResponse,
    );
  }

  async remind(request: ApprovalRequest, message: SlackMessageRef | null, remindersSent: number): Promise<void> {
    const escalation = request.escalateAt ? `, escalates at ${untrusted(request.escalateAt)}` : '';
    await this.thread(
      message,
      `:alarm_clock: Reminder ${remindersSent}: this approval is still waiting${escalation}, expires at ${untrusted(request.expiresAt)}.`,
    );
  }

  async escalate(request: ApprovalRequest, message: SlackMessageRef | null): Promise<{ message: SlackMessageRef | null }> {
    const esc = this.options.escalation;
    const channel = esc?.channel ?? this.options.channel;
    const mention = esc?.userGroup ? `<!subteam^${esc.userGroup}> ` : '';
    const note = `${mention}:rotating_light: *Escalated*: no decision within the approval window. This request expires at ${untrusted(request.expiresAt)}.`;
    const posted = await this.call(
      'chat.postMessage',
      {
        channel,
        text: `${note} ${fallbackText(request)}`,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: note } }, ...approvalBlocks(request, this.link(request.workflowId))],
        unfurl_links: false,
        unfurl_media: false,
      },
      postMessageResponse,
    );
    await this.thread(
      message,
      `:rotating_light: Escalated${esc?.channel ? ` to <#${esc.channel}>` : ''}${mention ? ` and ${mention.trim()}` : ''}.`,
    );
    return { message: { channel: posted.channel, ts: posted.ts } };
  }

  /**
   * A Tier 2 escalation, posted to `slack.escalation.channel` (else the approval channel) mentioning
   * `slack.escalation.userGroup` when set, with the link to the case. A refusal by Slack (`not_in_channel`, a bad
   * token) throws, so the activity retries rather than dropping the escalation.
   */
  async postTier2Escalation(notice: ContainmentEscalation): Promise<SlackMessageRef> {
    const esc = this.options.escalation;
    const message = tier2Blocks(notice, this.link(notice.workflowId), esc?.userGroup ? `<!subteam^${esc.userGroup}>` : null);
    const posted = await this.call(
      'chat.postMessage',
      { channel: esc?.channel ?? this.options.channel, ...message, unfurl_links: false, unfurl_media: false },
      postMessageResponse,
    );
    return { channel: posted.channel, ts: posted.ts };
  }

  async publishProgress(progress: ApprovalProgress): Promise<void> {
    const blocks = progressBlocks(progress, this.link(progress.request.workflowId));
    const text = `${fallbackText(progress.request)}: ${progress.stage}`;
    for (const message of [progress.message, progress.escalationMessage]) {
      if (message) await this.call('chat.update', { channel: message.channel, ts: message.ts, text, blocks }, updateResponse);
    }
    await this.thread(progress.message, statusLine(progress));
  }
}
