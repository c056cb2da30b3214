/** `http`: the listener for the SIEM webhooks, Slack, the read API, the codec endpoint and metrics. */
import { z } from 'zod';
import { secret } from './secret';

/**
 * Who may call the codec endpoint besides holders of `http.apiTokens`: decoding shows a case's personal data, so
 * each way in is explicit.
 */
const codecSection = z.strictObject({
  /**
   * Accept token-less requests from the embedded dev server's Web UI: a browser request over a loopback connection,
   * with the UI's loopback origin, no proxy headers and this namespace. Default: on when `temporal.devServer.enabled`.
   */
  loopbackUi: z.boolean().optional(),
  /** Accept the Web UI user's own OIDC access token (the UI's "pass access token"), verified against the issuer's JWKS. */
  oidc: z
    .strictObject({
      /** The `iss` the tokens must carry; its discovery document names the JWKS unless `jwksUrl` is set. */
      issuer: z.url(),
      /** The `aud` the tokens must carry (one of these). */
      audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      jwksUrl: z.url().optional(),
      /**
       * Who may decode: the claim (e.g. `groups`) must be, or contain, this value. Required: a valid token alone
       * proves only that someone signed in.
       */
      requiredClaim: z.strictObject({ name: z.string().min(1), value: z.string().min(1) }),
      /** Allowed clock skew for `exp` / `nbf`, in seconds. */
      clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
    })
    .optional(),
});

export const httpSection = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /**
   * Bearer tokens accepted on the SIEM webhooks. With none, the webhooks accept unauthenticated requests only while
   * the server listens on loopback (dev mode); the config is refused otherwise.
   */
  webhookTokens: z.array(secret()).default([]),
  /** Bearer tokens accepted on the read API (`GET /runs/:id`); same loopback-only rule when empty. */
  apiTokens: z.array(secret()).default([]),
  /** Bearer tokens accepted on `GET /metrics` (give Prometheus its own); same loopback-only rule when empty. */
  metricsTokens: z.array(secret()).default([]),
  codec: codecSection.prefault({}),
});

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');
