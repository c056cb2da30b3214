/**
 * The HTTP app: SIEM webhooks, Slack interactions, the read API and health. Built here without listening (tests use `app.inject()`);
 * src/server.ts listens. One error handler gives every failure the same `{"error", "details"}` shape.
 */
import type { Client } from '@temporalio/client';
import secureJson from 'secure-json-parse';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { CaseKeys } from '../ingest/case-key';
import { MAX_NDJSON_LINES, parseNdjson } from '../ingest/ndjson';
import { HttpError } from './errors';
import { forbiddenKeyPath } from './forbidden-keys';
import { PlaybookMetrics } from '../metrics';
import { payloadCodecFor } from '../temporal/payload-codec';
import { createCloudStorageCatalog } from '../wiring';
import { codecRoutes } from './routes/codec';
import { metricsRoutes } from './routes/metrics';
import { RECORDING_FAILURE_MESSAGE, recordingFailure, type RecordingFailure } from '../temporal/recording-failure';
import { openApiRoutes } from './routes/openapi';
import { runRoutes } from './routes/runs';
import { siemRoutes } from './routes/siem';
import { slackRoutes } from './routes/slack';

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes received, for signature verification. */
    rawBody?: Buffer;
    /** A body error held back until the route has authenticated the request (routes with `deferBodyErrors`). */
    bodyError?: HttpError;
    /** Why a webhook's 503 was given: nothing recorded, or perhaps recorded (for the metrics' `recorded` label). */
    recording?: RecordingFailure;
  }
  interface FastifyContextConfig {
    /**
     * Authenticate before judging the body: a parse error is kept in `request.bodyError` for the route to throw after
     * its authentication preHandler, so an unauthenticated caller learns nothing about what the body should be.
     */
    deferBodyErrors?: boolean;
  }
}

export interface AppDeps {
  config: Config;
  client: Client;
  logger: Logger;
  now?: () => Date;
  /** This process's metrics (shared with the worker when both run here); a fresh registry when omitted. */
  metrics?: PlaybookMetrics;
  /** Case keys for ingestion (user + destination service); by default from the file-backed service catalog. */
  caseKeys?: CaseKeys;
  /** The embedded dev server's state when this process supervises one (`/healthz` says it). */
  devServerUp?: () => boolean;
  /** How long recording one alert in Temporal may take before the caller gets a 503 (default 10 s). */
  recordDeadlineMs?: number;
  /** Told every webhook answer's latency and status (the case indexes' burst pacing, src/temporal/burst-pacer.ts). */
  onWebhookAnswer?: (ms: number, status: number) => void;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The URL with every query value replaced: query strings may carry tokens (`?token=`), and logs are kept. */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=[redacted]`;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

class RedactingLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.info(
      // Shaped like a request for fastify's `req` serializer, with the URL redacted.
      { req: { method: request.method, url: redactQuery(request.url), host: request.host, ip: request.ip, socket: request.raw.socket } },
      'incoming request',
    );
  }
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const { config } = deps;
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; widening it keeps the app's type the plain FastifyInstance.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Fastify's own "incoming request" line logs the URL with its query string, where some SIEMs must put their
    // token: this controller logs the same line with every query value redacted.
    logController: new RedactingLogController(),
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
    const fail = (error: HttpError) => {
      if (request.routeOptions.config?.deferBodyErrors) {
        request.bodyError = error;
        done(null, undefined);
      } else done(error, undefined);
    };
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      fail(new HttpError(400, 'Body is not valid UTF-8', [{ path: '', message: 'request bodies must be UTF-8 encoded JSON' }]));
      return;
    }
    if (text.trim().length === 0) {
      fail(new HttpError(400, 'Malformed JSON body', [{ path: '', message: 'the body is empty' }]));
      return;
    }
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      const where = forbiddenKeyPath(text);
      const message = where === null ? (err as Error).message : `${(err as Error).message} (the key ${where}); such keys are refused`;
      fail(new HttpError(400, 'Malformed JSON body', [{ path: where ?? '', message }]));
    }
  });
  // NDJSON batches (the generic SIEM route): each line is parsed on its own, so one bad line refuses one alert.
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    let error: HttpError | null = null;
    let batch = null;
    try {
      batch = parseNdjson(utf8.decode(raw));
      if (batch.lines.length === 0) error = new HttpError(400, 'Malformed NDJSON body', [{ path: '', message: 'the body has no lines' }]);
      else if (batch.lines.length > MAX_NDJSON_LINES) {
        error = new HttpError(400, 'Malformed NDJSON body', [
          { path: '', message: `at most ${MAX_NDJSON_LINES} lines per request (got ${batch.lines.length})` },
        ]);
      }
    } catch {
      error = new HttpError(400, 'Body is not valid UTF-8', [{ path: '', message: 'request bodies must be UTF-8 encoded JSON' }]);
    }
    if (!error) done(null, batch);
    else if (request.routeOptions.config?.deferBodyErrors) {
      request.bodyError = error;
      done(null, undefined);
    } else done(error, undefined);
  });

  app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
    if (error instanceof HttpError) {
      return reply
        .code(error.statusCode)
        .headers(error.headers)
        .send({ error: error.message, details: error.details, ...error.fields });
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
    const failure = recordingFailure(error);
    if (failure) {
      request.recording = failure;
      request.log.error({ err: error, recorded: failure }, 'Temporal is unavailable; asking the caller to retry');
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({ error: RECORDING_FAILURE_MESSAGE[failure], details: [], recorded: failure === 'unknown' ? 'unknown' : false });
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
  const caseKeys =
    deps.caseKeys ??
    new CaseKeys(createCloudStorageCatalog(config), (err) =>
      deps.logger.warn({ err }, 'Cloud-storage catalog unreadable; case keys fall back to the registrable domain'),
    );
  app.register(siemRoutes({ config, client: deps.client, now, caseKeys, recordDeadlineMs: deps.recordDeadlineMs }));
  const metrics = deps.metrics ?? new PlaybookMetrics({ processMetrics: false });
  app.register(runRoutes({ config, client: deps.client, metrics, ...(deps.devServerUp ? { devServerUp: deps.devServerUp } : {}) }));
  // Not encapsulated, so the alert counter sees the webhook routes' answers.
  metricsRoutes({ config, client: deps.client, metrics, ...(deps.onWebhookAnswer ? { onWebhookAnswer: deps.onWebhookAnswer } : {}) })(app);
  const codec = payloadCodecFor(config.temporal.payloadCodec);
  if (codec) app.register(codecRoutes({ config, codec }));
  app.register(openApiRoutes());
  if (config.slack) app.register(slackRoutes({ config, slack: config.slack, client: deps.client, now }));
  return app;
}
