/**
 * Elasticsearch, the one client for every Elasticsearch capability (upload baselines, audit forwarding): API-key
 * authentication (`Authorization: ApiKey <base64 id:api_key>`), an optional path prefix, and the error envelope
 * `{"error": {"type", "reason", "root_cause"}, "status"}` (its `error.type` kept as `ConnectorError.vendorCode`).
 */
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import { ConnectorUnavailableError } from '../errors';
import { createHttpClient, requestJson } from '../http';

export const ELASTICSEARCH_PROVIDER = 'elasticsearch';

export interface ElasticsearchClientOptions {
  url: string;
  /** Omitted: no Authorization header (a cluster behind a proxy that authenticates). */
  apiKey?: string | undefined;
  timeoutMs?: number | undefined;
}

export const elasticsearchErrorSchema = z.object({
  error: z.object({ type: z.string(), reason: z.string().nullish() }),
  status: z.number().int(),
});

/** Elasticsearch's `error.type`, e.g. `security_exception`, `index_not_found_exception`. */
export function elasticsearchErrorCode(body: unknown): string | undefined {
  const parsed = elasticsearchErrorSchema.safeParse(body);
  return parsed.success ? parsed.data.error.type : undefined;
}

const searchEnvelope = z.object({
  timed_out: z.boolean(),
  _shards: z.object({ total: z.number(), successful: z.number(), failed: z.number() }),
});

export class ElasticsearchClient {
  readonly http: AxiosInstance;

  constructor(options: ElasticsearchClientOptions) {
    const base = new URL(options.url);
    this.http = createHttpClient({
      provider: ELASTICSEARCH_PROVIDER,
      baseURL: `${base.origin}${base.pathname.replace(/\/$/, '')}`,
      timeoutMs: options.timeoutMs,
      headers: { ...(options.apiKey ? { authorization: `ApiKey ${options.apiKey}` } : {}), 'content-type': 'application/json' },
    });
  }

  /** Any request against the cluster, validated with `schema`. */
  request<S extends z.ZodType>(what: string, config: AxiosRequestConfig, schema: S): Promise<z.infer<S>> {
    return requestJson(this.http, ELASTICSEARCH_PROVIDER, what, config, schema, elasticsearchErrorCode);
  }

  /**
   * `POST /{index}/_search` with `allow_partial_search_results=false`. A search that timed out or lost shards is
   * incomplete: unavailable (retried), never silently used.
   */
  async search<S extends z.ZodType>(what: string, index: string, body: Record<string, unknown>, schema: S): Promise<z.infer<S>> {
    const data = await this.request(
      what,
      { method: 'POST', url: `/${index}/_search`, params: { allow_partial_search_results: false }, data: body },
      z.intersection(searchEnvelope, schema),
    );
    const envelope = data as z.infer<typeof searchEnvelope>;
    if (envelope.timed_out || envelope._shards.failed > 0) {
      throw new ConnectorUnavailableError(
        ELASTICSEARCH_PROVIDER,
        `${what}: incomplete result (timed_out ${envelope.timed_out}, ${envelope._shards.failed} of ${envelope._shards.total} shards failed)`,
      );
    }
    return data;
  }
}
