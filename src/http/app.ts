/**
 * The HTTP app: SIEM webhooks, the read API and health. Built here without listening (tests use `app.inject()`);
 * src/server.ts listens. One error handler gives every failure the same `{"error", "details"}` shape.
 */
import { isGrpcServiceError, ServiceError, type Client } from '@temporalio/client';
import secureJson from 'secure-json-parse';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { HttpError } from './errors';
import { PlaybookMetrics } from '../metrics';
import { payloadCodecFor } from '../temporal/payload-codec';
import { codecRoutes } from './routes/codec';
import { metricsRoutes } from './routes/metrics';
import { runRoutes } from './routes/runs';
import { siemRoutes } from './routes/siem';

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes received, for signature verification. */
    rawBody?: Buffer;
  }
}

export interface AppDeps {
  config: Config;
  client: Client;
  logger: Logger;
  now?: () => Date;
  /** This process's metrics (shared with the worker when both run here); a fresh registry when omitted. */
  metrics?: PlaybookMetrics;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** gRPC status codes that mean "Temporal is not there right now": the SIEM should retry. */
const UNAVAILABLE_CODES = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */, 8 /* RESOURCE_EXHAUSTED */]);

function temporalUnavailable(err: unknown): boolean {
  const grpc = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(grpc) && UNAVAILABLE_CODES.has(grpc.code);
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const { config } = deps;
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; widening it keeps the app's type the plain FastifyInstance.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimitBytes,
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
  });

  // Only JSON is accepted; the raw bytes are kept for signature checks, must be UTF-8, and may not carry
  // __proto__ or constructor.prototype keys (prototype poisoning).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      done(new HttpError(400, 'Body is not valid UTF-8', [{ path: '', message: 'request bodies must be UTF-8 encoded JSON' }]), undefined);
      return;
    }
    if (text.trim().length === 0) {
      done(new HttpError(400, 'Malformed JSON body', [{ path: '', message: 'the body is empty' }]), undefined);
      return;
    }
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      done(new HttpError(400, 'Malformed JSON body', [{ path: '', message: (err as Error).message }]), undefined);
    }
  });

  app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).headers(error.headers).send({ error: error.message, details: error.details });
    }
    const code = (error as FastifyError).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: `Body exceeds the limit of ${config.http.bodyLimitBytes} bytes`, details: [] });
    }
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const got = request.headers['content-type'] ?? 'none';
      return reply
        .code(415)
        .send({ error: 'Unsupported content type: send application/json', details: [{ path: 'content-type', message: `got ${got}` }] });
    }
    if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply.code(400).send({ error: 'Malformed JSON body', details: [{ path: '', message: 'the body is empty' }] });
    }
    if (temporalUnavailable(error)) {
      request.log.error({ err: error }, 'Temporal is unavailable; asking the caller to retry');
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({ error: 'Temporal is unavailable; nothing was recorded, retry later', details: [] });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: error.message, details: [] });
    }
    request.log.error({ err: error }, 'Unhandled error');
    return reply.code(500).send({ error: 'Internal error', details: [] });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `No route ${request.method} ${request.url.split('?')[0]}`, details: [] }),
  );

  const now = deps.now ?? (() => new Date());
  app.register(siemRoutes({ config, client: deps.client, now }));
  app.register(runRoutes({ config, client: deps.client }));
  // Not encapsulated, so the alert counter sees the webhook routes' answers.
  metricsRoutes({ config, metrics: deps.metrics ?? new PlaybookMetrics({ processMetrics: false }) })(app);
  const codec = payloadCodecFor(config.temporal.payloadCodec);
  if (codec) app.register(codecRoutes({ config, codec }));
  return app;
}
