/** `audit`: the append-only local audit file, and an optional copy of every record to the SIEM. */
import { z } from 'zod';

export const auditSection = z.strictObject({
  /** The append-only JSON Lines file; default `<dataDir>/audit/audit.jsonl`. */
  file: z.string().optional(),
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
