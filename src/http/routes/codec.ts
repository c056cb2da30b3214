/**
 * The remote codec endpoint for the Temporal Web UI (and `temporal` CLI `--codec-endpoint`): `POST /codec/encode`
 * and `POST /codec/decode` take and return `{"payloads": [{"metadata": {k: base64}, "data": base64}]}` (Temporal's
 * remote codec server protocol). Decoding reveals personal data: who may call it is `codecAuth` (the read API's
 * bearer tokens, the UI user's OIDC token, or the embedded UI on loopback), and CORS admits the Web UI origin only.
 */
import type { Payload } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config';
import type { AesGcmPayloadCodec } from '../../temporal/payload-codec';
import { codecAuth } from '../codec-auth';
import { zodDetails } from '../../error-details';
import { HttpError } from '../errors';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
// Protobuf JSON omits an empty repeated field, so the `temporal` CLI sends `{}` for a query without arguments.
const bodySchema = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }))
    .max(10_000)
    .default([]),
});

const toPayload = (p: z.infer<typeof bodySchema>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const fromPayload = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/**
 * The origins allowed to call the codec from a browser: the configured Web UI; on loopback also its
 * `localhost` / `127.0.0.1` twin (the dev server prints one, the config usually names the other).
 */
export function codecOrigins(config: Config): string[] {
  const ui = new URL(config.temporal.uiUrl);
  const origins = [ui.origin];
  const twin = ui.hostname === 'localhost' ? '127.0.0.1' : ui.hostname === '127.0.0.1' ? 'localhost' : null;
  if (twin) {
    ui.hostname = twin;
    origins.push(ui.origin);
  }
  return origins;
}

export function codecRoutes(deps: { config: Config; codec: AesGcmPayloadCodec }) {
  const origins = new Set(codecOrigins(deps.config));
  const authenticate = codecAuth(deps.config, [...origins]);
  const cors = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const origin = request.headers.origin;
    if (origin === undefined) return true; // not a browser cross-origin call
    if (!origins.has(origin)) return false;
    void reply.header('access-control-allow-origin', origin).header('access-control-allow-credentials', 'true').header('vary', 'Origin');
    return true;
  };

  return (app: FastifyInstance) => {
    app.addHook('onRequest', async (request, reply) => {
      if (!cors(request, reply)) {
        await reply.code(403).send({ error: 'Origin not allowed', details: [] });
      }
    });

    for (const op of ['encode', 'decode'] as const) {
      // Preflight: no credentials are sent with it, so it is answered without authentication.
      app.options(`/codec/${op}`, async (_request, reply) =>
        reply
          .code(204)
          .header('access-control-allow-methods', 'POST, OPTIONS')
          .header('access-control-allow-headers', 'content-type, x-namespace, authorization')
          .header('access-control-max-age', '600')
          .send(),
      );
      app.post(`/codec/${op}`, { preHandler: authenticate, bodyLimit: 16 * 1024 * 1024 }, async (request) => {
        const parsed = bodySchema.safeParse(request.body);
        if (!parsed.success) throw new HttpError(400, 'Invalid payloads', zodDetails(parsed.error, request.body));
        const payloads = parsed.data.payloads.map(toPayload);
        let out: Payload[];
        try {
          out = op === 'encode' ? await deps.codec.encode(payloads) : await deps.codec.decode(payloads);
        } catch (err) {
          throw new HttpError(400, `Cannot ${op} the payloads`, [{ path: 'payloads', message: (err as Error).message }]);
        }
        request.log.info({ op, count: out.length, namespace: request.headers['x-namespace'] }, 'Codec request');
        return { payloads: out.map(fromPayload) };
      });
    }
  };
}
