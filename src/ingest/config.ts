/**
 * How a SIEM source authenticates, after the fallback to `http.webhookTokens`. The schema of the `ingest` section
 * lives with the rest of the configuration, in src/config/ingest.ts.
 */
import { ALERT_SOURCES, type AlertSource } from '../contracts/alert';

export const INGEST_SOURCES = ALERT_SOURCES;
export type IngestSource = AlertSource;

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
