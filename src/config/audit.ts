/** `audit`: the append-only local audit file, and an optional copy of every record to the SIEM. */
import { z } from 'zod';
import { secret } from './secret';

export const auditSection = z.strictObject({
  /** The append-only JSON Lines file; default `<dataDir>/audit/audit.jsonl`. */
  file: z.string().optional(),
  /**
   * HMAC keys for the chain: the first signs every record and the signed head (`<file>.head`), all of them verify
   * (rotate by putting a new key first). At least 32 characters each, e.g. `openssl rand -base64 32`. Empty: records
   * are unkeyed (a rewrite with recomputed hashes or a cut tail would not show).
   */
  keys: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ -'),
        key: secret({
          check: (value, ctx) => {
            if (value.length < 32)
              ctx.addIssue({ code: 'custom', message: 'must be at least 32 characters (e.g. openssl rand -base64 32)' });
          },
        }),
      }),
    )
    .default([])
    .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'key ids must be unique'),
  /** Optional copy of every record to the SIEM over HTTP. The local file stays the chain of record. */
  forward: z
    .discriminatedUnion('to', [
      z.strictObject({
        /** Splunk's HTTP Event Collector, served by `vendors.splunk` (records go to /services/collector/event). */
        to: z.literal('splunk'),
        index: z.string().optional(),
        sourcetype: z.string().default('soar:audit'),
      }),
      z.strictObject({
        /** Served by `vendors.elasticsearch` (records go to /_bulk). */
        to: z.literal('elasticsearch'),
        index: z.string().min(1).default('soar-audit'),
      }),
    ])
    .optional(),
});
