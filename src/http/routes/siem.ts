/**
 * SIEM webhooks, one route per source. Each authenticates the request as configured for its source, normalizes the
 * SIEM's body into alerts, and records each alert in its case (src/temporal/ingest.ts) before answering: a 2xx is
 * sent only for alerts Temporal has durably recorded.
 */
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
import { isPending, recordAlert } from '../../temporal/ingest';
import { RECORDING_FAILURE_MESSAGE, recordingFailure } from '../../temporal/recording-failure';
import type { ErrorDetail } from '../../error-details';
import { HttpError } from '../errors';

export interface SiemRouteDeps {
  config: Config;
  client: Client;
  now: () => Date;
  caseKeys: CaseKeys;
  /** How long recording one alert may take before the answer is a 503 (default 10 s). */
  recordDeadlineMs?: number;
}

/** Thrown when this server already records as many alerts as `ingest.maxInFlight` allows: nothing was sent. */
class Overloaded extends HttpError {
  constructor() {
    super(503, 'Overloaded: not recorded, retry after Retry-After', [], { 'retry-after': SHED_RETRY_AFTER_SECONDS });
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
  /** With `unavailable`: false when the alert was certainly not recorded, "unknown" when it may have been. */
  recorded?: false | 'unknown';
  error?: string;
  details?: ErrorDetail[];
}

const RETRY_AFTER_SECONDS = '5';
/** A shed alert was never sent: the SIEM may come back soon. */
const SHED_RETRY_AFTER_SECONDS = '1';
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
  const record = async (alert: NormalizedAlert) => {
    if (inFlight >= deps.config.ingest.maxInFlight) throw new Overloaded();
    inFlight++;
    try {
      return await recordAlert(deps.client, deps.config, deps.caseKeys, alert, { deadlineMs: deps.recordDeadlineMs });
    } finally {
      inFlight--;
    }
  };

  /** One alert: 202 when a case was opened or joined, 200 for a duplicate; errors propagate (400, 503). */
  const single = async (request: FastifyRequest, reply: FastifyReply, normalized: Normalized) => {
    if (!normalized.ok) throw new HttpError(400, 'Invalid alert', normalized.details);
    const { alert } = normalized;
    const result = await record(alert);
    if (isPending(result)) {
      request.log.info({ source: alert.source, alertId: alert.alertId, caseIndexId: result.caseIndexId }, 'Alert recorded; case pending');
      return reply.code(202).send({ recorded: true, pending: true, caseIndexId: result.caseIndexId });
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
        if (isPending(result)) return { index, alertId: alert.alertId, status: 'recorded', caseIndexId: result.caseIndexId };
        const status: AlertStatus = result.duplicate ? 'duplicate' : result.joined ? 'joined' : 'accepted';
        return { index, alertId: alert.alertId, status, workflowId: result.workflowId };
      } catch (err) {
        if (err instanceof Overloaded) return { index, alertId: alert.alertId, status: 'unavailable', recorded: false, error: err.message };
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
      // Only under load (the index did not answer in time), so only then in the body.
      ...(recorded > 0 ? { recorded } : {}),
      duplicate: count('duplicate'),
      rejected: count('rejected'),
      unavailable: count('unavailable'),
      failed: count('failed'),
    };
    request.log.info({ ...summary }, 'Alert batch processed');
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

  return (app: FastifyInstance) => {
    for (const [source, handler] of Object.entries(routes) as [IngestSource, (typeof routes)[IngestSource]][]) {
      app.post(
        `/webhooks/siem/${source}`,
        {
          config: { deferBodyErrors: true },
          preHandler: requireSourceAuth(source, resolveSourceAuth(deps.config, source)),
        },
        handler,
      );
    }
  };
}
