/**
 * Microsoft Entra ID through Microsoft Graph: `POST /v1.0/users/{id | userPrincipalName}/revokeSignInSessions`
 * invalidates the user's refresh tokens and session cookies, so OneDrive / SharePoint (and every other app) need a
 * fresh sign-in. Graph answers `{"value": true}`; anything else is a failure. Revoking again is harmless (it can only
 * end sessions created since), so a retry after the vendor already acted is safe. Nothing can be restored: the user
 * simply signs in again. Needs the application permission User.RevokeSessions.All.
 */
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import type { AccessRevocationProvider, AccessTarget, ProviderOutcome } from '../../contracts/ports';
import { ConnectorActionFailedError, ConnectorAuthError } from '../errors';
import { createHttpClient } from '../http';
import { clientCredentialsToken, type CachedToken } from '../oauth2';
import { accountKey } from '../user-template';
import { vendorJson } from '../vendor-call';

export interface GraphSessionsOptions {
  baseUrl: string;
  /** https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** How the alert's user maps to a user principal name, e.g. "{user}@acme.com". */
  userTemplate: string;
  timeoutMs?: number;
}

const PROVIDER = 'microsoft-graph';
const PERMISSION = 'Microsoft Graph application permission User.RevokeSessions.All';
const revokeResponse = z.object({ value: z.boolean() });

export class GraphSessionRevocation implements AccessRevocationProvider {
  readonly name = PROVIDER;
  private readonly http: AxiosInstance;
  private readonly token: CachedToken;

  constructor(private readonly options: GraphSessionsOptions) {
    this.http = createHttpClient({ provider: PROVIDER, baseURL: options.baseUrl, timeoutMs: options.timeoutMs });
    this.token = clientCredentialsToken(
      createHttpClient({ provider: PROVIDER, baseURL: options.tokenUrl, timeoutMs: options.timeoutMs }),
      PROVIDER,
      options.tokenUrl,
      {
        grant_type: 'client_credentials',
        client_id: options.clientId,
        client_secret: options.clientSecret,
        scope: 'https://graph.microsoft.com/.default',
      },
      { provider: PROVIDER },
    );
  }

  async revoke(target: AccessTarget): Promise<ProviderOutcome> {
    const upn = accountKey(PROVIDER, this.options.userTemplate, target.user);
    let body;
    try {
      body = await vendorJson(
        this.http,
        PROVIDER,
        `revoke sign-in sessions of ${upn}`,
        {
          method: 'POST',
          url: `/v1.0/users/${encodeURIComponent(upn)}/revokeSignInSessions`,
          headers: { authorization: `Bearer ${await this.token.get()}` },
        },
        revokeResponse,
        PERMISSION,
      );
    } catch (err) {
      if (err instanceof ConnectorAuthError) this.token.invalidate();
      throw err;
    }
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
