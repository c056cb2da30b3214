/**
 * Okta: `DELETE /api/v1/users/{id}/sessions?oauthTokens=true` ends the user's Okta sessions and revokes the OAuth
 * tokens issued to them; optionally the cloud-storage app is unassigned (`DELETE /api/v1/apps/{appId}/users/{id}`)
 * so no new sign-in reaches it. The assignment is read first (a 404 means already unassigned: success) and kept in
 * the result, so a release re-assigns exactly what was removed. Only direct (USER) assignments are removed: a
 * group-assigned app is reported, not silently skipped. With an app to unassign, `observe` reads the assignment before
 * the change and the run records it first: an assignment found gone on a retry (the answer lost to a crash or a 5xx)
 * is this run's doing when the record shows it was there, and the release re-assigns it; the same for the undo. Calls go through the one `OktaClient` (SSWS or Bearer). Needs
 * an admin whose token covers okta.users.manage (and okta.apps.manage with app unassignment).
 */
import type { AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import type { AccessRevocationProvider, AccessTarget, ActionContext, ProviderOutcome } from '../../contracts/ports';
import { ConnectorActionFailedError, ConnectorNotFoundError } from '../errors';
import { accountKey } from '../user-template';
import { OKTA_PROVIDER as PROVIDER, type OktaClient } from './client';

export interface OktaSessionsOptions {
  /** How the alert's user maps to an Okta login, e.g. "{user}@acme.com". */
  userTemplate: string;
  /** The cloud-storage app to unassign (its Okta app ID); omitted: sessions and tokens only. */
  unassignAppId?: string | undefined;
}
const PERMISSION_USERS = 'an Okta admin API token covering okta.users.manage';
const PERMISSION_APPS = 'an Okta admin API token covering okta.apps.manage';

const user = z.object({ id: z.string(), status: z.string(), profile: z.object({ login: z.string() }).loose() });
const appUser = z.object({ id: z.string(), scope: z.string(), status: z.string().optional() });
const empty = z.unknown();

export class OktaSessionRevocation implements AccessRevocationProvider {
  readonly name = PROVIDER;

  constructor(
    private readonly client: OktaClient,
    private readonly options: OktaSessionsOptions,
  ) {}

  private call<S extends z.ZodType>(what: string, config: AxiosRequestConfig, schema: S, permission = PERMISSION_USERS) {
    return this.client.request(what, config, schema, permission);
  }

  private async userId(login: string): Promise<string> {
    const found = await this.call(`look up user ${login}`, { method: 'GET', url: `/api/v1/users/${encodeURIComponent(login)}` }, user);
    return found.id;
  }

  /** The user's assignment to the app, or null when there is none. */
  private async assignment(appId: string, userId: string) {
    try {
      return await this.call(
        `read app assignment of ${userId}`,
        { method: 'GET', url: `/api/v1/apps/${encodeURIComponent(appId)}/users/${encodeURIComponent(userId)}` },
        appUser,
        PERMISSION_APPS,
      );
    } catch (err) {
      if (err instanceof ConnectorNotFoundError) return null;
      throw err;
    }
  }

  async observe(direction: 'revoke' | 'restore', target: AccessTarget): Promise<Record<string, string>> {
    const appId = direction === 'restore' ? target.ref?.appId : this.options.unassignAppId;
    if (!appId) return {};
    const id =
      target.ref?.oktaUserId ?? (await this.userId(target.ref?.account ?? accountKey(PROVIDER, this.options.userTemplate, target.user)));
    const current = await this.assignment(appId, id);
    return { appId, oktaUserId: id, appAssignment: current ? current.scope : 'none' };
  }

  async revoke(target: AccessTarget, ctx?: ActionContext): Promise<ProviderOutcome> {
    const login = accountKey(PROVIDER, this.options.userTemplate, target.user);
    const id = await this.userId(login);
    await this.call(
      `clear sessions and OAuth tokens of ${login}`,
      { method: 'DELETE', url: `/api/v1/users/${encodeURIComponent(id)}/sessions`, params: { oauthTokens: true } },
      empty,
    );
    const ref: Record<string, string> = { account: login, oktaUserId: id };
    let detail = `Okta sessions and OAuth tokens of ${login} cleared.`;
    const appId = this.options.unassignAppId;
    const b = target.before;
    const observed = appId && b?.appId === appId && b.oktaUserId === id ? b.appAssignment : undefined;
    if (appId && observed !== undefined) {
      ref.appId = appId;
      if (observed === 'none') {
        detail += ` App ${appId} was not assigned before this run asked (nothing to unassign).`;
      } else if (observed !== 'USER') {
        detail += ` App ${appId} is assigned through a group (scope ${observed}): NOT unassigned; remove the group membership by hand.`;
        ref.appAssignment = 'group';
      } else if (!(await this.assignment(appId, id))) {
        // Assigned when this run looked (recorded before it asked), gone now: this run's DELETE, answer lost.
        ref.appAssignment = 'removed';
        detail += ` App ${appId} unassigned by this run (verified; the request went out in an earlier attempt whose answer was lost).`;
      } else {
        await this.unassign(appId, id, login);
        ref.appAssignment = 'removed';
        detail += ` App ${appId} unassigned by this run (verified).`;
      }
    } else if (appId) {
      ref.appId = appId;
      const current = await this.assignment(appId, id);
      // An earlier attempt that removed the assignment and then died must still be credited with it, or the
      // release would not put it back: it heartbeats its intent before the DELETE.
      const earlier = ctx?.resume as { oktaUnassigning?: string } | undefined;
      if (!current && earlier?.oktaUnassigning === `${appId}/${id}`) {
        ref.appAssignment = 'removed';
        detail += ` App ${appId} unassigned (by an earlier attempt; verified).`;
      } else if (!current) {
        detail += ` App ${appId} was not assigned (nothing to unassign).`;
      } else if (current.scope !== 'USER') {
        detail += ` App ${appId} is assigned through a group (scope ${current.scope}): NOT unassigned; remove the group membership by hand.`;
        ref.appAssignment = 'group';
      } else {
        ctx?.heartbeat({ oktaUnassigning: `${appId}/${id}` });
        await this.unassign(appId, id, login);
        ref.appAssignment = 'removed';
        detail += ` App ${appId} unassigned (verified).`;
      }
    }
    return { status: 'done', changedBy: 'this-run', detail, ref };
  }

  private async unassign(appId: string, id: string, login: string): Promise<void> {
    await this.call(
      `unassign app ${appId} from ${login}`,
      { method: 'DELETE', url: `/api/v1/apps/${encodeURIComponent(appId)}/users/${encodeURIComponent(id)}` },
      empty,
      PERMISSION_APPS,
    );
    if (await this.assignment(appId, id)) {
      throw new ConnectorActionFailedError(PROVIDER, `unassign app ${appId}: it is still assigned to ${login}`);
    }
  }

  async restore(target: AccessTarget): Promise<ProviderOutcome> {
    const ref = target.ref ?? {};
    if (ref.appAssignment !== 'removed' || !ref.appId) {
      return {
        status: 'done',
        alreadyInState: true,
        changedBy: 'nobody',
        detail: 'Nothing to restore at Okta: cleared sessions end for good; the user signs in again.',
      };
    }
    const id = ref.oktaUserId ?? (await this.userId(ref.account ?? target.user));
    const observed = target.before?.appId === ref.appId ? target.before.appAssignment : undefined;
    if (observed !== undefined && observed !== 'none') {
      return {
        status: 'done',
        alreadyInState: true,
        changedBy: 'someone-else',
        detail: `App ${ref.appId} was assigned to ${ref.account ?? id} again before the release began: not by this run; nothing requested.`,
      };
    }
    if (await this.assignment(ref.appId, id)) {
      if (observed === 'none') {
        return {
          status: 'done',
          changedBy: 'this-run',
          detail: `App ${ref.appId} re-assigned to ${ref.account ?? id} by this run (verified; the request went out in an earlier attempt whose answer was lost).`,
        };
      }
      return { status: 'done', alreadyInState: true, detail: `App ${ref.appId} is already assigned to ${ref.account ?? id} again.` };
    }
    await this.call(
      `re-assign app ${ref.appId} to ${ref.account ?? id}`,
      { method: 'POST', url: `/api/v1/apps/${encodeURIComponent(ref.appId)}/users`, data: { id, scope: 'USER' } },
      appUser,
      PERMISSION_APPS,
    );
    return {
      status: 'done',
      changedBy: 'this-run',
      detail: `App ${ref.appId} re-assigned to ${ref.account ?? id} by this run (the assignment this run removed).`,
    };
  }
}
