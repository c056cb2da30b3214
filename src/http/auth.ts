/** Bearer-token authentication, compared in constant time. Failures are opaque to the caller and logged here. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { tokenMatches } from '../token-match';

/**
 * A preHandler that requires `Authorization: Bearer <token>` from the accepted list. With an empty list the route is
 * open: the configuration only allows that when the server listens on loopback (dev mode).
 */
export function requireBearer(accepted: string[], realm: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (accepted.length === 0) return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    const reason = !header
      ? 'missing Authorization header'
      : !match
        ? 'malformed Authorization header'
        : !tokenMatches(match[1] ?? '', accepted)
          ? 'unknown token'
          : null;
    if (reason) {
      request.log.warn({ realm, reason, route: request.routeOptions.url }, 'Authentication failed');
      await reply.code(401).header('www-authenticate', `Bearer realm="${realm}"`).send({ error: 'Unauthorized', details: [] });
    }
  };
}
