/**
 * Google Workspace: Admin SDK Directory `POST admin/directory/v1/users/{userKey}/signOut` signs the user out of all
 * web and device sessions and resets their sign-in cookies (Google Drive included). Answers 204 with no body.
 * Signing out again is harmless. Nothing can be restored: the user signs in again. The service account needs
 * domain-wide delegation of https://www.googleapis.com/auth/admin.directory.user.security, acting as an admin
 * (`subject`) with the User Management (security) privilege. Google sometimes signals rate limits as 403 with the
 * reason rateLimitExceeded / userRateLimitExceeded: those are retried, not treated as a missing permission.
 */
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import type { AccessRevocationProvider, AccessTarget, ProviderOutcome } from '../../contracts/ports';
import { ConnectorAuthError, ConnectorRateLimitedError } from '../errors';
import { createHttpClient, toConnectorError } from '../http';
import type { CachedToken } from '../oauth2';
import { accountKey } from '../user-template';
import { withPermissionHint } from '../vendor-call';
import { parseServiceAccountKey, serviceAccountToken } from './service-account';

export interface GoogleSessionsOptions {
  /** https://admin.googleapis.com */
  baseUrl: string;
  /** The service-account key file's JSON. */
  serviceAccountKeyJson: string;
  /** The admin the service account acts as (domain-wide delegation). */
  subject: string;
  /** Overrides the key's token_uri (default https://oauth2.googleapis.com/token). */
  tokenUri?: string;
  /** How the alert's user maps to a primary email, e.g. "{user}@acme.com". */
  userTemplate: string;
  timeoutMs?: number;
}

const PROVIDER = 'google-workspace';
export const GOOGLE_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user.security';
const PERMISSION = `domain-wide delegation of ${GOOGLE_SCOPE} and an admin subject with the User Management privilege`;
const googleError = z.object({ error: z.object({ errors: z.array(z.object({ reason: z.string() })).optional() }) });

export class GoogleSignOut implements AccessRevocationProvider {
  readonly name = PROVIDER;
  private readonly http: AxiosInstance;
  private readonly token: CachedToken;

  constructor(private readonly options: GoogleSessionsOptions) {
    const key = parseServiceAccountKey(PROVIDER, options.serviceAccountKeyJson);
    const tokenUri = options.tokenUri ?? key.token_uri ?? 'https://oauth2.googleapis.com/token';
    this.http = createHttpClient({ provider: PROVIDER, baseURL: options.baseUrl, timeoutMs: options.timeoutMs });
    this.token = serviceAccountToken(
      createHttpClient({ provider: PROVIDER, baseURL: tokenUri, timeoutMs: options.timeoutMs }),
      PROVIDER,
      key,
      {
        scope: GOOGLE_SCOPE,
        subject: options.subject,
        tokenUri,
      },
    );
  }

  async revoke(target: AccessTarget): Promise<ProviderOutcome> {
    const email = accountKey(PROVIDER, this.options.userTemplate, target.user);
    const what = `sign out ${email}`;
    try {
      await this.http.request({
        method: 'POST',
        url: `/admin/directory/v1/users/${encodeURIComponent(email)}/signOut`,
        headers: { authorization: `Bearer ${await this.token.get()}` },
      });
    } catch (err) {
      const mapped = toConnectorError(PROVIDER, what, err);
      if (mapped instanceof ConnectorAuthError) {
        const body = googleError.safeParse((err as { response?: { data?: unknown } }).response?.data);
        const reasons = body.success ? (body.data.error.errors ?? []).map((e) => e.reason) : [];
        if (reasons.some((r) => r === 'rateLimitExceeded' || r === 'userRateLimitExceeded')) {
          throw new ConnectorRateLimitedError(PROVIDER, `${what}: rate limited (${reasons.join(', ')})`, null);
        }
        this.token.invalidate();
      }
      throw withPermissionHint(mapped, PERMISSION);
    }
    return {
      status: 'done',
      detail: `Google Workspace: ${email} signed out of all sessions (Admin SDK answered 204).`,
      ref: { account: email },
    };
  }

  restore(target: AccessTarget): Promise<ProviderOutcome> {
    return Promise.resolve({
      status: 'done',
      alreadyInState: true,
      detail: `Nothing to restore at Google Workspace: ${target.ref?.account ?? target.user} signs in again.`,
    });
  }
}
