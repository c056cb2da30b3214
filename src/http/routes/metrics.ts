/**
 * `GET /metrics`: this process's Prometheus metrics, followed by the Temporal SDK's own (worker, pollers, task
 * slots) when `metrics.sdkPrometheusAddress` is set, so one scrape target serves both. Bearer tokens from
 * `http.metricsTokens` (open only on loopback). Alerts are counted here, from every answer a SIEM webhook gives.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config';
import type { PlaybookMetrics } from '../../metrics';
import { readCaseGauges } from '../../temporal/run-list';
import { requireBearer } from '../auth';

async function sdkMetrics(address: string): Promise<string> {
  try {
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return `# Temporal SDK metrics unavailable: HTTP ${res.status}\n`;
    return await res.text();
  } catch (err) {
    return `# Temporal SDK metrics unavailable: ${(err as Error).message}\n`;
  }
}

export function metricsRoutes(deps: {
  config: Config;
  metrics: PlaybookMetrics;
  client?: Client;
  onWebhookAnswer?: (ms: number, status: number) => void;
}) {
  return (app: FastifyInstance) => {
    // The case gauges come from Temporal visibility, read by whichever HTTP process is scraped: every process reports
    // the same cluster-wide numbers (aggregate them with max, not sum), whichever worker holds the cases.
    const client = deps.client;
    if (client) deps.metrics.watchCases(() => readCaseGauges(client));
    app.addHook('onResponse', async (request, reply) => {
      // Only matched webhook routes count, so unknown paths cannot invent label values.
      const route = request.routeOptions.url;
      if (!route?.startsWith('/webhooks/siem/') || request.method !== 'POST') return;
      const params = request.params as Record<string, string> | undefined;
      const source = params?.source ?? route.slice('/webhooks/siem/'.length);
      const status = reply.statusCode;
      deps.metrics.alertsReceived.inc({ source });
      deps.metrics.alertAckDuration.observe({ source, status: String(status) }, reply.elapsedTime / 1000);
      deps.onWebhookAnswer?.(reply.elapsedTime, status);
      if (status === 200) deps.metrics.alertsDeduplicated.inc({ source });
      // Every refusal is certainly unrecorded, except a 503 that says Temporal may have recorded the alert.
      else if (status >= 400)
        deps.metrics.alertsRejected.inc({
          source,
          status: String(status),
          recorded: request.recording === 'unknown' ? 'unknown' : 'false',
        });
    });

    app.get('/metrics', { preHandler: requireBearer(deps.config.http.metricsTokens, 'metrics') }, async (_request, reply) => {
      const own = await deps.metrics.registry.metrics();
      const address = deps.config.metrics.sdkPrometheusAddress;
      const text = address ? `${own}\n${await sdkMetrics(address)}` : own;
      return reply.header('content-type', deps.metrics.registry.contentType).send(text);
    });
  };
}
