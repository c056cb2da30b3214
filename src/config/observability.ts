/** `log` and `metrics`. */
import { z } from 'zod';
import { hostPort } from './temporal';

export const logSection = z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') });

export const metricsSection = z.strictObject({
  /**
   * Where the Temporal SDK's own Prometheus exporter (worker, poller, task-slot metrics) listens, `host:port`;
   * `GET /metrics` appends what it serves. Off when absent.
   */
  sdkPrometheusAddress: hostPort.optional(),
});
