/**
 * Microsoft Entra ID through Microsoft Graph: `POST /v1.0/users/{id | userPrincipalName}/revokeSignInSessions`
 * invalidates the user's refresh tokens and session cookies, so OneDrive / SharePoint (and every other app) need a
 * fresh sign-in. Graph answers `{"value": true}`; anything else is a failure. Revoking again is harmless (it can only
 * end sessions created since), so a retry after the vendor already acted is safe. Nothing can be restored: the user
 * simply signs in again. Needs the application permission User.RevokeSessions.All.
 */
import { z } from 'zod';
import type { AccessRevocationProvider, AccessTarget, ProviderOutcome } from '../../contracts/ports';
import { ConnectorActionFailedError } from '../errors';
import { accountKey } from '../user-template';
import { GRAPH_PROVIDER as PROVIDER, type GraphClient } from './client';

export interface GraphSessionsOptions {
  /** How the alert's user maps to a user principal name, e.g. "{user}@acme.com". */
  userTemplate: string;
}

const PERMISSION = 'Microsoft Graph application permission User.RevokeSessions.All';
const revokeResponse = z.object({ value: z.boolean() });

export class GraphSessionRevocation implements AccessRevocationProvider {
  readonly name = PROVIDER;

  constructor(
    private readonly graph: GraphClient,
    private readonly options: GraphSessionsOptions,
  ) {}

  async revoke(target: AccessTarget): Promise<ProviderOutcome> {
    const upn = accountKey(PROVIDER, this.options.userTemplate, target.user);
    const body = await this.graph.request(
      `revoke sign-in sessions of ${upn}`,
      { method: 'POST', url: `/v1.0/users/${encodeURIComponent(upn)}/revokeSignInSessions` },
      revokeResponse,
      PERMISSION,
    );
    if (!body.value) throw new ConnectorActionFailedError(PROVIDER, `revoke sign-in sessions of ${upn}: Graph answered value=false`);
    return {
      status: 'done',
      detail: `Entra ID sign-in sessions and refresh tokens of ${upn} revoked (Graph confirmed).`,
      ref: { account: upn },
    };
  }

  restore(target: AccessTarget): Promise<ProviderOutcome> {
    const upn = target.ref?.account ?? target.user;
    return Promise.resolve({
      status: 'done',
      alreadyInState: true,
      detail: `Nothing to restore at Entra ID: revoked sessions cannot be reinstated; ${upn} can sign in again.`,
    });
  }
}
