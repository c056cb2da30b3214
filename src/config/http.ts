/** `http`: the listener for the SIEM webhooks, Slack, the read API, the codec endpoint and metrics. */
import { z } from 'zod';
import { secret } from './secret';

export const httpSection = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /**
   * Bearer tokens accepted on the SIEM webhooks. With none, the webhooks accept unauthenticated requests only while
   * the server listens on loopback (dev mode); the config is refused otherwise.
   */
  webhookTokens: z.array(secret()).default([]),
  /** Bearer tokens accepted on the read API (`GET /runs/:id`); same loopback-only rule when empty. */
  apiTokens: z.array(secret()).default([]),
  /** Bearer tokens accepted on `GET /metrics` (give Prometheus its own); same loopback-only rule when empty. */
  metricsTokens: z.array(secret()).default([]),
});

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');
