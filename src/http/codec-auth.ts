/**
 * Who may call the codec endpoint. Decoding shows a case's personal data, so a request is let in by exactly one of:
 *
 * - a bearer token from `http.apiTokens` (the `temporal` CLI's `--codec-auth`, a proxy that injects one);
 * - the Web UI user's own OIDC access token (`http.codec.oidc`; the UI's `passAccessToken`), verified with `jose`
 *   against the issuer's JWKS: signature, `iss`, `aud`, `exp` / `nbf`, then the authorisation rule
 *   (`requiredClaim`: e.g. the user is in the `soc-ir` group);
 * - the embedded dev server's Web UI (`http.codec.loopbackUi`), which can send no credential at all: the request
 *   must come over a loopback TCP connection (the socket's peer, not a header), through no proxy (no `Forwarded`,
 *   `X-Forwarded-For` or `X-Real-IP`: a proxy on this host would make remote users look local), from a browser page
 *   of the UI's own loopback origin (`Origin`), for this namespace (`X-Namespace`). Anyone who can make such a
 *   request can already open that UI, which decodes through this endpoint: it grants nothing the UI does not.
 *
 * With none of them configured the endpoint is open, which the configuration allows only on loopback. Anything
 * unknown fails closed: an unreachable JWKS, a token in neither form, a claim of an unexpected type.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import type { JWTPayload } from 'jose' with { 'resolution-mode': 'import' };
import { z } from 'zod';
import type { Config } from '../config';
import { isLoopback } from '../config/http';
import { tokenMatches } from '../token-match';

// jose is an ES module; this project compiles to CommonJS, so it is loaded once, on the first token to verify.
type Jose = typeof JoseModule;
let jose: Promise<Jose> | null = null;
const loadJose = () => (jose ??= import('jose'));

const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

type OidcConfig = NonNullable<Config['http']['codec']['oidc']>;

const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.url() });

/** The issuer's signing keys: `jwksUrl`, or the `jwks_uri` of its discovery document (fetched once, then cached). */
function jwksOf(oidc: OidcConfig) {
  let keys: Promise<ReturnType<Jose['createRemoteJWKSet']>> | null = null;
  const load = async () => {
    const { createRemoteJWKSet } = await loadJose();
    if (oidc.jwksUrl) return createRemoteJWKSet(new URL(oidc.jwksUrl));
    const url = `${oidc.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`OIDC discovery ${url}: HTTP ${res.status}`);
    const doc = discoverySchema.safeParse(await res.json());
    if (!doc.success) throw new Error(`OIDC discovery ${url}: no jwks_uri`);
    if (doc.data.issuer !== oidc.issuer) throw new Error(`OIDC discovery ${url}: issuer is ${doc.data.issuer}, expected ${oidc.issuer}`);
    return createRemoteJWKSet(new URL(doc.data.jwks_uri));
  };
  return () => {
    keys ??= load().catch((err: unknown) => {
      keys = null; // try discovery again on the next request
      throw err;
    });
    return keys;
  };
}

/** `requiredClaim`: the claim is the value, or a list holding it. Any other shape is a refusal. */
function allowed(payload: JWTPayload, rule: OidcConfig['requiredClaim']): boolean {
  const claim = payload[rule.name];
  if (typeof claim === 'string') return claim === rule.value;
  return Array.isArray(claim) && claim.some((v) => v === rule.value);
}

/** Why a token-less request is not the embedded UI's, or null when it is. */
function notTheLoopbackUi(request: FastifyRequest, origins: Set<string>, namespace: string): string | null {
  const peer = (request.socket.remoteAddress ?? '').replace(/^::ffff:(?=127\.)/, '');
  if (!isLoopback(peer)) return 'not a loopback connection';
  if (PROXY_HEADERS.some((h) => request.headers[h] !== undefined)) return 'forwarded by a proxy';
  const origin = request.headers.origin;
  if (origin === undefined || !origins.has(origin)) return 'not from the embedded Web UI origin';
  if (request.headers['x-namespace'] !== namespace) return `not for namespace ${namespace}`;
  return null;
}

export function codecAuth(config: Config, uiOrigins: string[]) {
  const { apiTokens } = config.http;
  const oidc = config.http.codec.oidc;
  const namespace = config.temporal.namespace;
  const loopbackOrigins = new Set(uiOrigins.filter((o) => isLoopback(new URL(o).hostname)));
  const loopbackUi = (config.http.codec.loopbackUi ?? config.temporal.devServer.enabled) && loopbackOrigins.size > 0;
  const open = apiTokens.length === 0 && !oidc;
  const jwks = oidc ? jwksOf(oidc) : null;

  const refuse = async (request: FastifyRequest, reply: FastifyReply, status: 401 | 403, reason: string, via: string) => {
    request.log.warn({ realm: 'codec', via, reason, route: request.routeOptions.url }, 'Authentication failed');
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="codec"');
    await reply.code(status).send({ error: status === 401 ? 'Unauthorized' : 'Forbidden', details: [] });
  };

  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (open) return;
    const header = request.headers.authorization;
    if (header === undefined) {
      if (!loopbackUi) return refuse(request, reply, 401, 'missing Authorization header', 'none');
      const reason = notTheLoopbackUi(request, loopbackOrigins, namespace);
      if (reason) return refuse(request, reply, 401, `missing Authorization header and ${reason}`, 'loopback-ui');
      return;
    }
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) return refuse(request, reply, 401, 'malformed Authorization header', 'bearer');
    if (apiTokens.length > 0 && tokenMatches(token, apiTokens)) return;
    if (!oidc || !jwks || token.split('.').length !== 3) return refuse(request, reply, 401, 'unknown token', 'bearer');
    const { jwtVerify, errors: joseErrors } = await loadJose();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await jwks(), {
        issuer: oidc.issuer,
        audience: oidc.audience,
        clockTolerance: oidc.clockToleranceSeconds,
      }));
    } catch (err) {
      // The reason is logged (never the token); the caller learns only that it was refused.
      const reason = err instanceof joseErrors.JOSEError ? `${err.code}: ${err.message}` : `cannot verify: ${(err as Error).message}`;
      return refuse(request, reply, 401, reason, 'oidc');
    }
    if (!allowed(payload, oidc.requiredClaim)) {
      return refuse(request, reply, 403, `${String(payload.sub)} lacks ${oidc.requiredClaim.name}=${oidc.requiredClaim.value}`, 'oidc');
    }
    request.log.info({ realm: 'codec', via: 'oidc', sub: payload.sub }, 'Codec caller');
  };
}
