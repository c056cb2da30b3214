/**
 * Dropbox Business (storage side): suspends the team member, which ends their sessions and blocks sign-in to the
 * team's Dropbox, keeping their data (`wipe_data: false`). The member's status is read first
 * (`POST /2/team/members/get_info_v2`): already `suspended` is success and is marked so, and a release never
 * unsuspends a member this run did not suspend. After `POST /2/team/members/suspend` the status is read again and
 * must say `suspended`. Undo: `POST /2/team/members/unsuspend`. The status before each change is read by `observe`
 * and recorded in the run's history before the change: a member found suspended on a retry (the answer lost to a
 * crash or a 5xx) is this run's doing when the record says active, and someone else's when it says suspended; the
 * same for the undo. Needs a team access token with members.write (and members.read).
 */
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import type { AccessRevocationProvider, AccessTarget, ActionContext, ProviderOutcome } from '../../contracts/ports';
import { ConnectorActionFailedError, ConnectorNotFoundError } from '../errors';
import { createHttpClient } from '../http';
import { accountKey } from '../user-template';
import { vendorJson } from '../vendor-call';

export interface DropboxMembersOptions {
  /** https://api.dropboxapi.com */
  baseUrl: string;
  accessToken: string;
  /** How the alert's user maps to the member's email, e.g. "{user}@acme.com". */
  userTemplate: string;
  timeoutMs?: number;
}

const PROVIDER = 'dropbox';
const PERMISSION = 'a Dropbox team access token with the scopes members.read and members.write (team admin)';

const infoResponse = z.object({
  members_info: z.array(
    z.union([
      z.object({
        '.tag': z.literal('member_info'),
        profile: z.object({ team_member_id: z.string(), email: z.string(), status: z.object({ '.tag': z.string() }) }).loose(),
      }),
      z.object({ '.tag': z.literal('id_not_found'), id_not_found: z.string() }),
    ]),
  ),
});

export class DropboxMemberSuspension implements AccessRevocationProvider {
  readonly name = PROVIDER;
  private readonly http: AxiosInstance;

  constructor(private readonly options: DropboxMembersOptions) {
    this.http = createHttpClient({
      provider: PROVIDER,
      baseURL: options.baseUrl,
      timeoutMs: options.timeoutMs,
      headers: { authorization: `Bearer ${options.accessToken}` },
    });
  }

  private call<S extends z.ZodType>(what: string, config: AxiosRequestConfig, schema: S) {
    return vendorJson(this.http, PROVIDER, what, config, schema, PERMISSION);
  }

  /** The member's status tag: active, invited, suspended or removed. */
  private async status(email: string): Promise<string> {
    const body = await this.call(
      `read member ${email}`,
      { method: 'POST', url: '/2/team/members/get_info_v2', data: { members: [{ '.tag': 'email', email }] } },
      infoResponse,
    );
    const info = body.members_info[0];
    if (!info || info['.tag'] === 'id_not_found') throw new ConnectorNotFoundError(PROVIDER, `${email} is not a member of the team`);
    return info.profile.status['.tag'];
  }

  async observe(direction: 'revoke' | 'restore', target: AccessTarget): Promise<Record<string, string>> {
    const email =
      direction === 'restore' && target.ref?.account ? target.ref.account : accountKey(PROVIDER, this.options.userTemplate, target.user);
    return { account: email, status: await this.status(email) };
  }

  async revoke(target: AccessTarget, ctx?: ActionContext): Promise<ProviderOutcome> {
    const email = accountKey(PROVIDER, this.options.userTemplate, target.user);
    if (target.before) return this.revokeObserved(email, target.before);
    const before = await this.status(email);
    // An earlier attempt that suspended and then died heartbeated its intent first: the suspension is this run's.
    if (before === 'suspended' && (ctx?.resume as { dropboxSuspending?: string } | undefined)?.dropboxSuspending === email) {
      return {
        status: 'done',
        detail: `Dropbox member ${email} suspended (by an earlier attempt; verified).`,
        ref: { account: email, suspendedByRun: 'true' },
      };
    }
    if (before === 'suspended') {
      return {
        status: 'done',
        alreadyInState: true,
        detail: `Dropbox member ${email} was already suspended; nothing requested.`,
        ref: { account: email, suspendedByRun: 'false' },
      };
    }
    ctx?.heartbeat({ dropboxSuspending: email });
    await this.call(
      `suspend member ${email}`,
      { method: 'POST', url: '/2/team/members/suspend', data: { user: { '.tag': 'email', email }, wipe_data: false } },
      z.null(),
    );
    const after = await this.status(email);
    if (after !== 'suspended') throw new ConnectorActionFailedError(PROVIDER, `suspend member ${email}: status is "${after}" afterwards`);
    return {
      status: 'done',
      detail: `Dropbox member ${email} suspended (verified; data kept).`,
      ref: { account: email, suspendedByRun: 'true' },
    };
  }

  /** With the status recorded before this run asked: a suspension found now is ours unless it was there before. */
  private async revokeObserved(email: string, before: Record<string, string>): Promise<ProviderOutcome> {
    if (before.status === 'suspended') {
      return {
        status: 'done',
        alreadyInState: true,
        changedBy: 'someone-else',
        detail: `Dropbox member ${email} was already suspended before this run asked (not by this run); nothing requested.`,
        ref: { account: email, suspendedByRun: 'false' },
      };
    }
    const now = await this.status(email);
    if (now === 'suspended') {
      return {
        status: 'done',
        changedBy: 'this-run',
        detail:
          `Dropbox member ${email} suspended by this run (verified; data kept). The request went out in an earlier ` +
          `attempt whose answer was lost (crash or error); it was not sent again.`,
        ref: { account: email, suspendedByRun: 'true' },
      };
    }
    await this.call(
      `suspend member ${email}`,
      { method: 'POST', url: '/2/team/members/suspend', data: { user: { '.tag': 'email', email }, wipe_data: false } },
      z.null(),
    );
    const after = await this.status(email);
    if (after !== 'suspended') throw new ConnectorActionFailedError(PROVIDER, `suspend member ${email}: status is "${after}" afterwards`);
    return {
      status: 'done',
      changedBy: 'this-run',
      detail: `Dropbox member ${email} suspended by this run (verified; data kept).`,
      ref: { account: email, suspendedByRun: 'true' },
    };
  }

  async restore(target: AccessTarget): Promise<ProviderOutcome> {
    const email = target.ref?.account ?? accountKey(PROVIDER, this.options.userTemplate, target.user);
    if (target.ref?.suspendedByRun !== 'true') {
      return {
        status: 'done',
        alreadyInState: true,
        changedBy: 'nobody',
        detail: `${email} was not suspended by this run; left as it is.`,
      };
    }
    if (target.before) {
      if (target.before.status !== 'suspended') {
        return {
          status: 'done',
          alreadyInState: true,
          changedBy: 'someone-else',
          detail: `Dropbox member ${email} was no longer suspended when the release began (status ${target.before.status}): not by this run; nothing requested.`,
        };
      }
      if ((await this.status(email)) === 'active') {
        return {
          status: 'done',
          changedBy: 'this-run',
          detail: `Dropbox member ${email} unsuspended by this run (verified); the request went out in an earlier attempt whose answer was lost.`,
        };
      }
    }
    if ((await this.status(email)) !== 'suspended') {
      return { status: 'done', alreadyInState: true, detail: `Dropbox member ${email} is no longer suspended; nothing requested.` };
    }
    await this.call(
      `unsuspend member ${email}`,
      { method: 'POST', url: '/2/team/members/unsuspend', data: { user: { '.tag': 'email', email } } },
      z.null(),
    );
    const after = await this.status(email);
    if (after !== 'active') throw new ConnectorActionFailedError(PROVIDER, `unsuspend member ${email}: status is "${after}" afterwards`);
    return { status: 'done', changedBy: 'this-run', detail: `Dropbox member ${email} unsuspended (verified): by this run.` };
  }
}
