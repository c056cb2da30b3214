/**
 * `ingest`: how each SIEM source authenticates, and how long deduplication remembers.
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
 * (allowed only while the server listens on loopback); see `resolveSourceAuth` in src/ingest/config.ts.
 */
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { durationMs, optionalDurationMs } from './duration';
import { secret } from './secret';

/** Standard Webhooks secrets are `whsec_` followed by base64 of at least 24 bytes (the spec's minimum). */
function checkWebhookSecret(value: string, ctx: z.RefinementCtx): void {
  if (!value.startsWith('whsec_')) {
    ctx.addIssue({ code: 'custom', message: 'must be a Standard Webhooks secret: whsec_ followed by base64' });
    return;
  }
  let bytes = 0;
  try {
    new Webhook(value);
    bytes = Buffer.from(value.slice(6), 'base64').length;
  } catch {
    bytes = 0;
  }
  if (bytes < 24) ctx.addIssue({ code: 'custom', message: 'must decode to at least 24 random bytes (base64 after whsec_)' });
}

// The key without its prefix is what signs, so a log line may carry either form.
const webhookSecret = secret({ check: checkWebhookSecret, alsoRedact: (v) => [v.replace(/^whsec_/, '')] });
const tokens = z.array(secret()).min(1, 'at least one token is required');

const auth = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('standard-webhooks'),
      /** Every listed secret is accepted: add the new one, move senders over, then remove the old one. */
      secrets: z.array(webhookSecret).min(1, 'at least one secret is required'),
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

export const ingestSection = z.strictObject({
  /**
   * How long a case index remembers the alerts it has seen after its last alert: a replay within this window is a
   * duplicate even after the case closed. The first alert of every case is remembered for the namespace's retention
   * regardless (its workflow ID is derived from it).
   */
  dedupWindow: durationMs.default(30 * 86_400_000),
  /**
   * Alerts one HTTP server records at once; more are answered 503 with Retry-After at once (not recorded). Bounds
   * the memory and the wait of a storm; each alert takes one Temporal call of tens of milliseconds.
   */
  maxInFlight: z.number().int().min(1).default(512),
  /**
   * How long the webhook waits for the alert's case index to decide (duplicate, joined, or the new case's ID) before
   * it answers. 0 (the default): it does not wait: the alert is recorded by signal-with-start and answered 202
   * "recorded, case pending" as soon as Temporal has written it, the case read later at the answer's `statusUrl`.
   * Above 0: past it the alert is recorded by signal in the same way (src/temporal/ingest.ts).
   */
  answerWithin: optionalDurationMs.default(0),
  /**
   * Status reads (`GET /alerts/...`) that one HTTP server has a case index answer at once. A read of a joined (or not
   * yet routed) alert is a query, which the ingest worker answers by replaying the index when it is out of the cache:
   * work taken from the alerts themselves. More are answered 503 with Retry-After at once.
   */
  maxStatusQueries: z.number().int().min(1).default(2),
  /** How long a status read waits for its case index to answer; past it, 503 with Retry-After. */
  statusQueryTimeout: durationMs.default(5_000),
  sources: z.strictObject({ generic: source, splunk: source, elastic: source, sentinel: source }).prefault({}),
});
