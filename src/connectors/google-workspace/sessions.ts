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
import { bearerJson, type BearerTokens } from '../bearer';
import { ConnectorAuthError, ConnectorRateLimitedError } from '../errors';
import { createHttpClient } from '../http';
import { accountKey } from '../user-template';
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
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

/** Google's error envelope `{"error": {"code", "message", "errors": [{"reason": "forbidden"}]}}`: the first reason. */
function googleReason(body: unknown): string | undefined {
  const parsed = googleError.safeParse(body);
  return parsed.success ? parsed.data.error.errors?.[0]?.reason : undefined;
}

export class GoogleSignOut implements AccessRevocationProvider {
  readonly name = PROVIDER;
  private readonly http: AxiosInstance;
  private readonly token: BearerTokens;

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
      await bearerJson(
        this.http,
        PROVIDER,
        this.token,
        what,
        { method: 'POST', url: `/admin/directory/v1/users/${encodeURIComponent(email)}/signOut` },
        z.unknown(),
        { permission: PERMISSION, vendorCodeOf: googleReason },
      );
    } catch (err) {
      if (err instanceof ConnectorAuthError && err.vendorCode !== undefined && RATE_LIMIT_REASONS.has(err.vendorCode)) {
        throw new ConnectorRateLimitedError(PROVIDER, `${what}: rate limited (${err.vendorCode})`, null, {
          status: err.status,
          vendorCode: err.vendorCode,
        });
      }
      throw err;
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
