/** SIEM webhooks: each validates its body, normalizes it, and acknowledges only once Temporal recorded the run. */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config';
import { genericWebhookBodySchema, MAX_EVENT_TIME_SKEW_MS, type NormalizedAlert } from '../../contracts/alert';
import { startPlaybookRun } from '../../temporal/playbook-runs';
import { requireBearer } from '../auth';
import { HttpError, zodDetails } from '../errors';

export interface SiemRouteDeps {
  config: Config;
  client: Client;
  now: () => Date;
}

function checkEventTime(eventTime: string, now: Date): void {
  const skew = Date.parse(eventTime) - now.getTime();
  if (skew > 15 * 60_000) {
    throw new HttpError(400, 'Invalid alert', [{ path: 'eventTime', message: 'is more than 15 minutes in the future' }]);
  }
  if (-skew > MAX_EVENT_TIME_SKEW_MS) {
    throw new HttpError(400, 'Invalid alert', [{ path: 'eventTime', message: 'is more than a year in the past' }]);
  }
}

export function siemRoutes(deps: SiemRouteDeps) {
  return (app: FastifyInstance) => {
    app.post('/webhooks/siem/generic', { preHandler: requireBearer(deps.config.http.webhookTokens, 'siem') }, async (request, reply) => {
      const parsed = genericWebhookBodySchema.safeParse(request.body);
      if (!parsed.success) throw new HttpError(400, 'Invalid alert', zodDetails(parsed.error, request.body));
      checkEventTime(parsed.data.eventTime, deps.now());
      const alert: NormalizedAlert = { ...parsed.data, source: 'generic', raw: request.body };
      // Bounded, so a hung connection becomes a 503 the SIEM retries rather than a stalled webhook.
      const result = await deps.client.connection.withDeadline(Date.now() + 10_000, () =>
        startPlaybookRun(deps.client, deps.config, alert),
      );
      request.log.info({ workflowId: result.workflowId, duplicate: result.duplicate, alertId: alert.alertId }, 'Alert accepted');
      return reply.code(result.duplicate ? 200 : 202).send(result);
    });
  };
}
