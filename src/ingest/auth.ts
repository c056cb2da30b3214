/**
 * Per-source authentication of SIEM webhooks. Standard Webhooks signatures are verified with the `standardwebhooks`
 * package (HMAC-SHA256 over `id.timestamp.body`, a five-minute window both ways, constant-time comparison), trying
 * every configured secret so secrets can be rotated; tokens (bearer header or query string) are compared in constant
 * time. A failure is an opaque 401 to the caller and a log line with the source and the reason, never the token.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { tokenMatches } from '../token-match';
import type { IngestSource, SourceAuth } from './config';

/** Why a Standard Webhooks verification failed, in words an operator can act on. */
function signatureFailure(verifiers: Webhook[], body: string, headers: Record<string, string>): string | null {
  let reason = 'no signature matches any configured secret';
  for (const verifier of verifiers) {
    try {
      verifier.verify(body, headers, { jsonParse: false });
      return null;
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      switch (err.message) {
        case 'Missing required headers':
          return 'missing webhook-id, webhook-timestamp or webhook-signature header';
        case 'Invalid Signature Headers':
          return 'malformed webhook-timestamp header';
        case 'Message timestamp too old':
          return 'signature timestamp is more than 5 minutes old';
        case 'Message timestamp too new':
          return 'signature timestamp is more than 5 minutes in the future';
        default:
          reason = 'no signature matches any configured secret';
      }
    }
  }
  return reason;
}

const SIGNATURE = /^(v1,[A-Za-z0-9+/]+={0,2})( v1,[A-Za-z0-9+/]+={0,2})*$/;

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Returns null when the request is authentic, else the reason (for the log, never for the caller). */
export function authenticate(auth: SourceAuth, request: FastifyRequest, verifiers: Webhook[]): string | null {
  switch (auth.type) {
    case 'none':
      return null;
    case 'bearer': {
      const header = headerValue(request, 'authorization');
      if (!header) return 'missing Authorization header';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) return 'malformed Authorization header';
      return tokenMatches(match[1] ?? '', auth.tokens) ? null : 'unknown bearer token';
    }
    case 'query-token': {
      const query = request.query as Record<string, unknown> | undefined;
      const value = query?.[auth.param];
      if (value === undefined) return `missing ${auth.param} query parameter`;
      if (typeof value !== 'string') return `repeated ${auth.param} query parameter`;
      return tokenMatches(value, auth.tokens) ? null : `unknown ${auth.param} query parameter`;
    }
    case 'standard-webhooks': {
      const id = headerValue(request, 'webhook-id');
      const timestamp = headerValue(request, 'webhook-timestamp');
      const signature = headerValue(request, 'webhook-signature');
      if (!id || !timestamp || !signature) return 'missing webhook-id, webhook-timestamp or webhook-signature header';
      if (!/^\d{1,12}$/.test(timestamp)) return 'malformed webhook-timestamp header';
      if (!SIGNATURE.test(signature)) return 'malformed webhook-signature header (expected "v1,<base64>")';
      const body = request.rawBody ? request.rawBody.toString('utf8') : '';
      return signatureFailure(verifiers, body, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature });
    }
  }
}

/**
 * A preHandler for one source's route. Tokens could be checked before the body is read, but a signature needs the
 * body, so all modes run here, after the size limit and before the body's content is looked at (the routes defer
 * body errors until after authentication; see `deferBodyErrors`).
 */
export function requireSourceAuth(source: IngestSource, auth: SourceAuth) {
  const verifiers = auth.type === 'standard-webhooks' ? auth.secrets.map((s) => new Webhook(s)) : [];
  const challenge = auth.type === 'bearer' ? 'Bearer realm="siem"' : auth.type === 'standard-webhooks' ? 'Standard-Webhooks' : null;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const reason = authenticate(auth, request, verifiers);
    if (reason === null) return;
    request.log.warn({ source, auth: auth.type, reason, route: request.routeOptions.url }, 'Authentication failed');
    if (challenge) void reply.header('www-authenticate', challenge);
    await reply.code(401).send({ error: 'Unauthorized', details: [] });
  };
}
