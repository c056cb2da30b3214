/** The read API: a run's current state, where an acknowledged alert went, and the server's health. */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config';
import { temporalReachable } from '../../temporal/connection';
import { ALERT_SOURCES, type AlertSource } from '../../contracts/alert';
import type { PlaybookMetrics } from '../../metrics';
import { alertRouting } from '../../temporal/ingest';
import { getRunView } from '../../temporal/playbook-runs';
import { requireBearer } from '../auth';
import { HttpError } from '../errors';
import { StatusQueryGate } from '../status-query-gate';

const WORKFLOW_ID = /^[A-Za-z0-9._:@-]{1,200}$/;
/** The alert ID rule of the SIEM contract (src/contracts/alert.ts). */
const ALERT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The status link of an alert acknowledged before its case index routed it (the 202 "case pending" answer). */
export function alertStatusPath(caseIndexId: string, source: AlertSource, alertId: string): string {
  return `/alerts/${caseIndexId}/${source}/${encodeURIComponent(alertId)}`;
}

export interface RunRoutesDeps {
  config: Config;
  client: Client;
  metrics: PlaybookMetrics;
  /** The embedded dev server's state, when this process supervises one: down while it is being restarted. */
  devServerUp?: () => boolean;
}

export function runRoutes(deps: RunRoutesDeps) {
  // Status reads that need a case index's answer (a query, which the ingest worker answers) are bounded per server.
  const statusQueries = new StatusQueryGate(deps.client, {
    maxQueries: deps.config.ingest.maxStatusQueries,
    timeoutMs: deps.config.ingest.statusQueryTimeout,
    onShed: (reason) => deps.metrics.statusReadsShed.inc({ reason }),
  });
  return (app: FastifyInstance) => {
    app.get<{ Params: { workflowId: string } }>(
      '/runs/:workflowId',
      { preHandler: requireBearer(deps.config.http.apiTokens, 'runs') },
      async (request) => {
        const { workflowId } = request.params;
        if (!WORKFLOW_ID.test(workflowId)) {
          throw new HttpError(400, 'Invalid workflow ID', [
            { path: 'workflowId', message: 'may contain only letters, digits and . _ : @ - (at most 200)' },
          ]);
        }
        const view = await getRunView(deps.client, workflowId);
        if (!view) throw new HttpError(404, `No playbook run with workflow ID ${workflowId}`);
        return view;
      },
    );

    // Where an alert acknowledged "recorded, case pending" went: 200 with its case once the index has routed it,
    // 404 while it has not (not yet, or never recorded), 503 with Retry-After while this server has as many index
    // queries running as `ingest.maxStatusQueries` allows. A resent alert (a duplicate) reads the same case.
    app.get<{ Params: { caseIndexId: string; source: string; alertId: string } }>(
      '/alerts/:caseIndexId/:source/:alertId',
      { preHandler: requireBearer(deps.config.http.apiTokens, 'runs') },
      async (request) => {
        const { caseIndexId, source, alertId } = request.params;
        const details = [
          ...(WORKFLOW_ID.test(caseIndexId)
            ? []
            : [{ path: 'caseIndexId', message: 'may contain only letters, digits and . _ : @ - (at most 200)' }]),
          ...((ALERT_SOURCES as readonly string[]).includes(source)
            ? []
            : [{ path: 'source', message: `must be one of ${ALERT_SOURCES.join(', ')}` }]),
          ...(ALERT_ID.test(alertId) ? [] : [{ path: 'alertId', message: 'may contain only letters, digits and . _ : @ - (at most 128)' }]),
        ];
        if (details.length > 0) throw new HttpError(400, 'Invalid alert status request', details);
        const routed = await alertRouting(deps.client, caseIndexId, { source: source as AlertSource, alertId }, statusQueries.admit);
        if (!routed) {
          throw new HttpError(404, `Case index ${caseIndexId} has not routed ${source} alert ${alertId} (not yet, or never recorded)`);
        }
        return { caseIndexId, source, alertId, routed: true, ...routed };
      },
    );

    app.get('/healthz', async (_request, reply) => {
      const devServer = deps.devServerUp ? (deps.devServerUp() ? 'up' : 'restarting') : undefined;
      const reachable = devServer !== 'restarting' && (await temporalReachable(deps.client));
      return reply.code(reachable ? 200 : 503).send({
        status: reachable ? 'ok' : 'unavailable',
        temporal: reachable ? 'reachable' : 'unreachable',
        ...(devServer ? { devServer } : {}),
      });
    });
  };
}
