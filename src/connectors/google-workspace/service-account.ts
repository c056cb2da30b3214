/**
 * Google service-account access tokens: the OAuth 2.0 JWT-bearer grant (RFC 7523) signed RS256 with node:crypto,
 * with domain-wide delegation (`sub` = the admin the service account acts as). Cached until shortly before expiry.
 * The private key stays in this process: it signs, it is never sent or logged.
 */
import { createSign } from 'node:crypto';
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { ConnectorConfigurationError } from '../errors';
import { CachedToken, requestToken } from '../oauth2';

/** The fields of a service-account key file (JSON) this needs. */
export const serviceAccountKey = z.object({
  type: z.literal('service_account'),
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  token_uri: z.string().url().optional(),
});
export type ServiceAccountKey = z.infer<typeof serviceAccountKey>;

export function parseServiceAccountKey(provider: string, json: string): ServiceAccountKey {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ConnectorConfigurationError(provider, 'the service-account key is not valid JSON');
  }
  const parsed = serviceAccountKey.safeParse(raw);
  if (!parsed.success) {
    throw new ConnectorConfigurationError(
      provider,
      `the service-account key lacks ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
    );
  }
  return parsed.data;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** A signed JWT assertion for the token endpoint. */
export function signAssertion(
  key: ServiceAccountKey,
  claims: { scope: string; subject: string; audience: string; nowSeconds: number },
): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({
      iss: key.client_email,
      sub: claims.subject,
      scope: claims.scope,
      aud: claims.audience,
      iat: claims.nowSeconds,
      exp: claims.nowSeconds + 3600,
    }),
  );
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${payload}`);
  return `${header}.${payload}.${signer.sign(key.private_key).toString('base64url')}`;
}

export function serviceAccountToken(
  http: AxiosInstance,
  provider: string,
  key: ServiceAccountKey,
  options: { scope: string; subject: string; tokenUri: string; now?: () => number },
): CachedToken {
  const now = options.now ?? Date.now;
  return new CachedToken(
    () =>
      requestToken(http, provider, options.tokenUri, {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: signAssertion(key, {
          scope: options.scope,
          subject: options.subject,
          audience: options.tokenUri,
          nowSeconds: Math.floor(now() / 1000),
        }),
      }),
    { now },
  );
}
