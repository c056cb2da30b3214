/** The read API: a run's current state, and the server's health. */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config';
import { temporalReachable } from '../../temporal/connection';
import { getRunView } from '../../temporal/playbook-runs';
import { requireBearer } from '../auth';
import { HttpError } from '../errors';

const WORKFLOW_ID = /^[A-Za-z0-9._:@-]{1,200}$/;

export interface RunRoutesDeps {
  config: Config;
  client: Client;
  /** The embedded dev server's state, when this process supervises one: down while it is being restarted. */
  devServerUp?: () => boolean;
}

export function runRoutes(deps: RunRoutesDeps) {
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
