/**
 * SIEM webhooks, one route per source. Each authenticates the request as configured for its source, normalizes the
 * SIEM's body into alerts, and records each alert in its case index (src/temporal/ingest.ts) before answering: a 2xx
 * is sent only for alerts Temporal has durably recorded. By default the answer comes as soon as the record is written
 * (202 "recorded, case pending", with a `statusUrl` that names the case once the index has routed the alert: new,
 * joined, or a duplicate of an earlier delivery); with `ingest.answerWithin` the index's decision is awaited that long,
 * and and a 503 says `recorded: false` only when nothing reached
 * Temporal. After a failure, alerts are refused at once while Temporal does not answer a probe
 * (src/temporal/availability.ts); Standard Webhooks deliveries are idempotent by `webhook-id`
 * (src/temporal/webhook-receipts.ts).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config';
import type { NormalizedAlert } from '../../contracts/alert';
import { caseIndexIdFor, type CaseKeys } from '../../ingest/case-key';
import { requireSourceAuth } from '../../ingest/auth';
import { resolveSourceAuth, type IngestSource } from '../../ingest/config';
import { normalizeElastic } from '../../ingest/elastic';
import { normalizeGeneric } from '../../ingest/generic';
import { NdjsonBatch } from '../../ingest/ndjson';
import type { Normalized } from '../../ingest/normalize';
import { normalizeSentinel } from '../../ingest/sentinel';
import { normalizeSplunk } from '../../ingest/splunk';
import { TemporalAvailability } from '../../temporal/availability';
import { isPending, recordAlert } from '../../temporal/ingest';
import { bodySha256, WebhookReceipts } from '../../temporal/webhook-receipts';
import { RECORDING_FAILURE_MESSAGE, recordingFailure } from '../../temporal/recording-failure';
import type { ErrorDetail } from '../../error-details';
import { HttpError } from '../errors';
import { alertStatusPath } from './runs';

export interface SiemRouteDeps {
  config: Config;
  client: Client;
  now: () => Date;
  caseKeys: CaseKeys;
  /** How long recording one alert may take before the answer is a 503 (default 10 s). */
  recordDeadlineMs?: number;
  /** Whether Temporal is answering: an alert is refused at once, unsent, while it is not (default: probe `client`). */
  availability?: TemporalAvailability;
  /** Standard Webhooks IDs already acknowledged (default: remembered here and in Temporal through `client`). */
  receipts?: WebhookReceipts;
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * A Standard Webhooks delivery: checked for a replay once its body is found valid; `first` when no earlier
     * delivery of its ID was acknowledged, and then its receipt is written when it is.
     */
    webhookReceipt?: { source: IngestSource; webhookId: string; bodySha256: string; first: boolean; written: () => void };
  }
}

/** A 503 for an alert that was never sent to Temporal: certainly not recorded. */
class NotSent extends HttpError {
  constructor(message: string, retryAfter: string) {
    super(503, message, [], { 'retry-after': retryAfter }, { recorded: false });
  }
}

/** Thrown when this server already records as many alerts as `ingest.maxInFlight` allows: nothing was sent. */
class Overloaded extends NotSent {
  constructor() {
    super('Overloaded: not recorded, retry after Retry-After', SHED_RETRY_AFTER_SECONDS);
  }
}

/** Thrown when a recent call failed and Temporal still does not answer a probe: nothing was sent. */
class Unreachable extends NotSent {
  constructor() {
    super('Temporal is unavailable; nothing was recorded, retry later', RETRY_AFTER_SECONDS);
  }
}

/** `recorded`: durable, its case still to be assigned by the case index (it did not answer in time). */
export type AlertStatus = 'accepted' | 'joined' | 'recorded' | 'duplicate' | 'rejected' | 'unavailable' | 'failed';

export interface AlertOutcome {
  /** Position in the batch: the index in Elastic's `alerts`, or the line number of an NDJSON body. */
  index: number;
  alertId: string | null;
  status: AlertStatus;
  workflowId?: string;
  /** With `recorded`: the case index that will assign the alert to a case. */
  caseIndexId?: string;
  /** With `recorded`: where the alert's case is read once the index has routed it (GET, the read API's token). */
  statusUrl?: string;
  /** With `unavailable`: false when the alert was certainly not recorded, "unknown" when it may have been. */
  recorded?: false | 'unknown';
  error?: string;
  details?: ErrorDetail[];
}

const RETRY_AFTER_SECONDS = '5';
/** A shed alert was never sent: the SIEM may come back soon. */
const SHED_RETRY_AFTER_SECONDS = '1';
/** How long a delivery waits for its receipt to be written before the next delivery of its ID may go on. */
const RECEIPT_WAIT_MS = 10_000;
/** Alerts of one batch recorded at once: enough to overlap round trips, few enough not to flood Temporal. */
const BATCH_CONCURRENCY = 8;

/** Like Promise.all over `items.map(fn)`, with at most `limit` calls in flight; results keep the input order. */
async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

function unsupportedBatch(): HttpError {
  return new HttpError(415, 'Unsupported content type: send application/json', [
    { path: 'content-type', message: 'application/x-ndjson is accepted only on /webhooks/siem/generic' },
  ]);
}

function requireBody(request: FastifyRequest): unknown {
  if (request.bodyError) throw request.bodyError;
  if (request.body === undefined) {
    throw new HttpError(400, 'Invalid alert', [{ path: '', message: 'a JSON object body is required' }]);
  }
  return request.body;
}

export function siemRoutes(deps: SiemRouteDeps) {
  // Alerts being recorded right now. Past the limit an alert is refused at once (503, nothing sent) instead of
  // queueing behind the others until its deadline: under a storm the SIEM hears "retry" within a second.
  let inFlight = 0;
  const availability = deps.availability ?? TemporalAvailability.of(deps.client);
  const record = async (alert: NormalizedAlert) => {
    if (inFlight >= deps.config.ingest.maxInFlight) throw new Overloaded();
    // After a failure, a server that does not answer is reported at once instead of at the recording deadline.
    if (!(await availability.reachable())) throw new Unreachable();
    inFlight++;
    try {
      return await recordAlert(deps.client, deps.config, deps.caseKeys, alert, { deadlineMs: deps.recordDeadlineMs, availability });
    } finally {
      inFlight--;
    }
  };

  /** One alert: 202 when a case was opened or joined, 200 for a duplicate; errors propagate (400, 503). */
  const single = async (request: FastifyRequest, reply: FastifyReply, normalized: Normalized) => {
    if (!normalized.ok) throw new HttpError(400, 'Invalid alert', normalized.details);
    const { alert } = normalized;
    const replay = await replayAnswer(request);
    if (replay) return reply.code(200).send(replay);
    const result = await record(alert);
    if (isPending(result)) {
      request.log.info({ source: alert.source, alertId: alert.alertId, caseIndexId: result.caseIndexId }, 'Alert recorded; case pending');
      const statusUrl = alertStatusPath(result.caseIndexId, alert.source, alert.alertId);
      return reply
        .code(202)
        .header('location', statusUrl)
        .send({ recorded: true, pending: true, caseIndexId: result.caseIndexId, statusUrl });
    }
    request.log.info(
      { source: alert.source, alertId: alert.alertId, workflowId: result.workflowId, duplicate: result.duplicate, joined: result.joined },
      'Alert recorded',
    );
    if (result.duplicate) return reply.code(200).send({ workflowId: result.workflowId, duplicate: true });
    return reply.code(202).send({ workflowId: result.workflowId, duplicate: false, joined: result.joined });
  };

  /** A batch: every alert gets its own outcome; the status says whether the SIEM must retry. */
  const batch = async (request: FastifyRequest, reply: FastifyReply, items: { index: number; normalized: Normalized }[]) => {
    const recordOne = async ({ index, normalized }: { index: number; normalized: Normalized }): Promise<AlertOutcome> => {
      if (!normalized.ok) return { index, alertId: null, status: 'rejected', error: 'Invalid alert', details: normalized.details };
      const { alert } = normalized;
      try {
        const result = await record(alert);
        if (isPending(result))
          return {
            index,
            alertId: alert.alertId,
            status: 'recorded',
            caseIndexId: result.caseIndexId,
            statusUrl: alertStatusPath(result.caseIndexId, alert.source, alert.alertId),
          };
        const status: AlertStatus = result.duplicate ? 'duplicate' : result.joined ? 'joined' : 'accepted';
        return { index, alertId: alert.alertId, status, workflowId: result.workflowId };
      } catch (err) {
        if (err instanceof NotSent) return { index, alertId: alert.alertId, status: 'unavailable', recorded: false, error: err.message };
        const failure = recordingFailure(err);
        if (failure)
          return {
            index,
            alertId: alert.alertId,
            status: 'unavailable',
            recorded: failure === 'unknown' ? 'unknown' : false,
            error: RECORDING_FAILURE_MESSAGE[failure],
          };
        request.log.error({ err, alertId: alert.alertId }, 'Recording an alert failed');
        return { index, alertId: alert.alertId, status: 'failed', error: 'Internal error; not recorded' };
      }
    };
    if (items.some((item) => item.normalized.ok)) {
      const replay = await replayAnswer(request);
      if (replay) return reply.code(200).send(replay);
    }
    // Alerts for the same case are recorded in batch order (the first opens the case, the rest join it); different
    // cases are recorded in parallel.
    const groups = new Map<string, { position: number; item: (typeof items)[number] }[]>();
    for (const [position, item] of items.entries()) {
      const key = item.normalized.ok ? caseIndexIdFor(await deps.caseKeys.of(item.normalized.alert)) : `rejected-${position}`;
      groups.set(key, [...(groups.get(key) ?? []), { position, item }]);
    }
    const outcomes = new Array<AlertOutcome>(items.length);
    await mapBounded([...groups.values()], BATCH_CONCURRENCY, async (group) => {
      for (const { position, item } of group) outcomes[position] = await recordOne(item);
    });
    const count = (status: AlertStatus) => outcomes.filter((o) => o.status === status).length;
    const recorded = count('recorded');
    const summary = {
      accepted: count('accepted'),
      joined: count('joined'),
      // Recorded, case pending (the default answer, or the index did not answer in time): only then in the body.
      ...(recorded > 0 ? { recorded } : {}),
      duplicate: count('duplicate'),
      rejected: count('rejected'),
      unavailable: count('unavailable'),
      failed: count('failed'),
    };
    request.log.info({ ...summary }, 'Alert batch processed');
    if (summary.unavailable > 0) request.recording = outcomes.some((o) => o.recorded === 'unknown') ? 'unknown' : 'not-recorded';
    const body = { ...summary, results: outcomes };
    // Retrying the whole batch is safe: what was recorded comes back as duplicates.
    if (summary.unavailable > 0) return reply.code(503).header('retry-after', RETRY_AFTER_SECONDS).send(body);
    if (summary.failed > 0) return reply.code(500).send(body);
    if (summary.rejected === outcomes.length) return reply.code(400).send(body);
    if (summary.rejected > 0) return reply.code(207).send(body);
    return reply.code(summary.accepted + summary.joined + recorded > 0 ? 202 : 200).send(body);
  };

  const envelope = (details: ErrorDetail[]) => new HttpError(400, 'Invalid alert', details);

  const routes: Record<IngestSource, (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>> = {
    generic: async (request, reply) => {
      const body = requireBody(request);
      if (body instanceof NdjsonBatch) {
        return batch(
          request,
          reply,
          body.lines.map((line) => ({
            index: line.line,
            normalized: line.ok
              ? normalizeGeneric(line.value, deps.now(), `line ${line.line}: `, deps.config.identity)
              : { ok: false, details: [{ path: `line ${line.line}`, message: line.message }] },
          })),
        );
      }
      return single(request, reply, normalizeGeneric(body, deps.now(), '', deps.config.identity));
    },
    splunk: async (request, reply) => {
      const body = requireBody(request);
      if (body instanceof NdjsonBatch) throw unsupportedBatch();
      const normalized = normalizeSplunk(body, deps.now(), deps.config.identity);
      if ('envelope' in normalized) throw envelope(normalized.envelope);
      return single(request, reply, normalized);
    },
    sentinel: async (request, reply) => {
      const body = requireBody(request);
      if (body instanceof NdjsonBatch) throw unsupportedBatch();
      const normalized = normalizeSentinel(body, deps.now(), deps.config.identity);
      if ('envelope' in normalized) throw envelope(normalized.envelope);
      return single(request, reply, normalized);
    },
    elastic: async (request, reply) => {
      const body = requireBody(request);
      if (body instanceof NdjsonBatch) throw unsupportedBatch();
      const normalized = normalizeElastic(body, deps.now(), deps.config.identity);
      if ('envelope' in normalized) throw envelope(normalized.envelope);
      return batch(
        request,
        reply,
        normalized.alerts.map((n, index) => ({ index, normalized: n })),
      );
    },
  };

  const receipts =
    deps.receipts ?? new WebhookReceipts(deps.client, deps.config.temporal.ingestTaskQueue ?? deps.config.temporal.taskQueue);

  /**
   * Standard Webhooks idempotency (src/temporal/webhook-receipts.ts): deliveries of one `webhook-id` are handled one
   * at a time here, and a first delivery's receipt is written before its answer leaves (`writeReceipt`).
   */
  const idempotent =
    (source: IngestSource, handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const webhookId = request.headers['webhook-id'];
      // The signature check before this has required exactly one.
      if (typeof webhookId !== 'string') return handler(request, reply);
      const bodySha = bodySha256(request.rawBody);
      return receipts.serialized(source, webhookId, async () => {
        const written = new Promise<void>((resolve) => {
          request.webhookReceipt = { source, webhookId, bodySha256: bodySha, first: false, written: resolve };
        });
        await handler(request, reply);
        // `writeReceipt` settles it as the answer leaves; the bound only keeps one lost answer from holding the ID.
        await Promise.race([written, delay(RECEIPT_WAIT_MS, undefined, { ref: false })]);
        return reply;
      });
    };

  /**
   * For a signed delivery whose body is valid: the answer to give instead of recording when its `webhook-id` was
   * already acknowledged with a different body (a replay: a duplicate, never a second alert); else null. The same
   * body goes on as usual: its alerts come back as duplicates from their case index, with their cases.
   */
  const replayAnswer = async (request: FastifyRequest): Promise<Record<string, unknown> | null> => {
    const pending = request.webhookReceipt;
    if (!pending) return null;
    if (!(await availability.reachable())) throw new Unreachable();
    let prior;
    try {
      prior = await receipts.find(pending.source, pending.webhookId);
    } catch (err) {
      if (!recordingFailure(err)) throw err;
      availability.failed();
      throw new Unreachable();
    }
    if (!prior) {
      pending.first = true;
      return null;
    }
    if (prior.bodySha256 === pending.bodySha256) return null;
    request.log.warn(
      { source: pending.source, webhookId: pending.webhookId, firstWorkflowId: prior.workflowId },
      'webhook-id replayed with a different body; answered as a duplicate',
    );
    return { duplicate: true, webhookId: pending.webhookId, ...(prior.workflowId ? { workflowId: prior.workflowId } : {}) };
  };

  /** Writes the receipt of a first delivery that was acknowledged (200/202: every alert recorded). */
  const writeReceipt = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const pending = request.webhookReceipt;
    if (!pending) return payload;
    request.webhookReceipt = undefined;
    try {
      if (pending.first && (reply.statusCode === 200 || reply.statusCode === 202)) {
        let workflowId: unknown;
        try {
          workflowId = typeof payload === 'string' ? (JSON.parse(payload) as { workflowId?: unknown }).workflowId : undefined;
        } catch {
          workflowId = undefined;
        }
        await receipts.record(pending.source, pending.webhookId, {
          bodySha256: pending.bodySha256,
          ...(typeof workflowId === 'string' ? { workflowId } : {}),
        });
      }
    } catch (err) {
      // The alerts are recorded: the answer stands. Only a replay with a different body after a restart could now
      // pass (this process still remembers the ID).
      request.log.warn(
        { err, source: pending.source, webhookId: pending.webhookId },
        'Could not record the webhook-id receipt in Temporal',
      );
    } finally {
      pending.written();
    }
    return payload;
  };

  return (app: FastifyInstance) => {
    for (const [source, handler] of Object.entries(routes) as [IngestSource, (typeof routes)[IngestSource]][]) {
      const auth = resolveSourceAuth(deps.config, source);
      const signed = auth.type === 'standard-webhooks';
      app.post(
        `/webhooks/siem/${source}`,
        {
          config: { deferBodyErrors: true },
          preHandler: requireSourceAuth(source, auth),
          ...(signed ? { onSend: writeReceipt } : {}),
        },
        signed ? idempotent(source, handler) : handler,
      );
    }
  };
}
