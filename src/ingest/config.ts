/**
 * The `ingest` configuration section: how each SIEM source authenticates, and how long deduplication remembers.
 *
 * ```yaml
 * ingest:
 *   dedupWindow: 30d
 *   sources:
 *     splunk:   { auth: { type: query-token, tokens: [env:SPLUNK_TOKEN] } }       # ?token=...
 *     elastic:  { auth: { type: bearer, tokens: [env:KIBANA_TOKEN] } }            # Authorization: Bearer ...
 *     sentinel: { auth: { type: standard-webhooks, secrets: [env:SENTINEL_WHSEC, env:SENTINEL_WHSEC_OLD] } }
 *     generic:  { auth: { type: none } }                                           # loopback only
 * ```
 *
 * A source without an entry uses `http.webhookTokens` as bearer tokens, or no authentication when that list is empty
 * (allowed only while the server listens on loopback), which keeps the foundation's configuration working unchanged.
 */
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { ALERT_SOURCES, type AlertSource } from '../contracts/alert';

export const INGEST_SOURCES = ALERT_SOURCES;
export type IngestSource = AlertSource;

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Standard Webhooks secrets are `whsec_` followed by base64 of at least 24 bytes (the spec's minimum). */
function checkWebhookSecret(secret: string, ctx: z.RefinementCtx): void {
  if (!secret.startsWith('whsec_')) {
    ctx.addIssue({ code: 'custom', message: 'must be a Standard Webhooks secret: whsec_ followed by base64' });
    return;
  }
  let bytes = 0;
  try {
    new Webhook(secret);
    bytes = Buffer.from(secret.slice(6), 'base64').length;
  } catch {
    bytes = 0;
  }
  if (bytes < 24) ctx.addIssue({ code: 'custom', message: 'must decode to at least 24 random bytes (base64 after whsec_)' });
}

/** The secret type is the main config's (`env:NAME`, `file:PATH` or literal), passed in to avoid an import cycle. */
export function ingestSchema(secret: z.ZodType<string, string>) {
  const tokens = z.array(secret).min(1, 'at least one token is required');
  const auth = z.discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('standard-webhooks'),
        /** Every listed secret is accepted: add the new one, move senders over, then remove the old one. */
        secrets: z.array(secret.superRefine(checkWebhookSecret)).min(1, 'at least one secret is required'),
      }),
      z.strictObject({ type: z.literal('bearer'), tokens }),
      z.strictObject({
        type: z.literal('query-token'),
        tokens,
        param: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a query parameter name')
          .default('token'),
      }),
      z.strictObject({ type: z.literal('none') }),
    ],
    { message: 'type must be one of standard-webhooks, bearer, query-token, none' },
  );
  const source = z.strictObject({ auth }).optional();
  return z.strictObject({
    /**
     * How long a case index remembers the alerts it has seen after its last alert: a replay within this window is a
     * duplicate even after the case closed. The first alert of every case is remembered for the namespace's
     * retention regardless (its workflow ID is derived from it).
     */
    dedupWindow: z
      .union([z.number().int().positive(), z.string().regex(DURATION, 'must be a duration like 12h or 30d')])
      .transform((v) => {
        if (typeof v === 'number') return v;
        const [, n, unit] = DURATION.exec(v) ?? [];
        return Number(n) * (UNIT_MS[unit ?? 's'] ?? 1000);
      })
      .default(30 * 86_400_000),
    /**
     * Alerts one HTTP server records at once; more are answered 503 with Retry-After at once (not recorded). Bounds
     * the memory and the wait of a storm; each alert takes one Temporal call of tens of milliseconds.
     */
    maxInFlight: z.number().int().min(1).default(512),
    sources: z
      .strictObject({ generic: source, splunk: source, elastic: source, sentinel: source })
      .default({ generic: undefined, splunk: undefined, elastic: undefined, sentinel: undefined }),
  });
}

export type SourceAuth =
  | { type: 'standard-webhooks'; secrets: string[] }
  | { type: 'bearer'; tokens: string[] }
  | { type: 'query-token'; tokens: string[]; param: string }
  | { type: 'none' };

interface ConfigWithIngest {
  http: { webhookTokens: string[] };
  ingest: { sources: Partial<Record<IngestSource, { auth: SourceAuth } | undefined>> };
}

/** The authentication a source actually uses, after the fallback to `http.webhookTokens`. */
export function resolveSourceAuth(config: ConfigWithIngest, source: IngestSource): SourceAuth {
  const own = config.ingest.sources[source];
  if (own) return own.auth;
  return config.http.webhookTokens.length > 0 ? { type: 'bearer', tokens: config.http.webhookTokens } : { type: 'none' };
}
