/**
 * Forwards audit records to the SIEM: Splunk's HTTP Event Collector (`POST /services/collector/event`,
 * `Authorization: Splunk <token>`) or an Elasticsearch `_bulk` endpoint (`Authorization: ApiKey <key>`; the record's
 * hash is the document `_id`, so a re-sent record overwrites itself instead of duplicating).
 */
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import type { AuditRecord } from '../../audit/audit-log';
import { ConnectorInvalidResponseError } from '../errors';
import { createHttpClient, requestJson } from '../http';

export interface AuditForwarder {
  readonly name: string;
  forward(record: AuditRecord): Promise<void>;
}

const hecResponse = z.object({ text: z.string(), code: z.number() });

export class SplunkHecForwarder implements AuditForwarder {
  readonly name = 'splunk-hec';
  private readonly http: AxiosInstance;
  constructor(
    baseUrl: string,
    token: string,
    private readonly options: { index?: string | undefined; sourcetype: string; timeoutMs?: number },
  ) {
    this.http = createHttpClient({
      provider: this.name,
      baseURL: baseUrl,
      timeoutMs: options.timeoutMs,
      headers: { authorization: `Splunk ${token}` },
    });
  }

  async forward(record: AuditRecord): Promise<void> {
    const body = {
      time: Date.parse(record.recordedAt) / 1000,
      source: 'soar-playbook-worker',
      sourcetype: this.options.sourcetype,
      ...(this.options.index ? { index: this.options.index } : {}),
      event: record,
    };
    const res = await requestJson(
      this.http,
      this.name,
      `forward audit record ${record.seq}`,
      { method: 'POST', url: '/services/collector/event', data: body },
      hecResponse,
    );
    if (res.code !== 0) throw new ConnectorInvalidResponseError(this.name, `HEC answered code ${res.code}: ${res.text}`);
  }
}

const bulkResponse = z.object({
  errors: z.boolean(),
  items: z.array(z.record(z.string(), z.object({ status: z.number(), error: z.unknown().optional() }))),
});

export class ElasticsearchBulkForwarder implements AuditForwarder {
  readonly name = 'elasticsearch';
  private readonly http: AxiosInstance;
  constructor(
    baseUrl: string,
    private readonly index: string,
    apiKey: string | undefined,
    timeoutMs?: number,
  ) {
    this.http = createHttpClient({
      provider: this.name,
      baseURL: baseUrl,
      timeoutMs,
      headers: apiKey ? { authorization: `ApiKey ${apiKey}` } : {},
    });
  }

  async forward(record: AuditRecord): Promise<void> {
    const ndjson = `${JSON.stringify({ index: { _index: this.index, _id: record.hash } })}\n${JSON.stringify(record)}\n`;
    const res = await requestJson(
      this.http,
      this.name,
      `forward audit record ${record.seq}`,
      { method: 'POST', url: '/_bulk', data: ndjson, headers: { 'content-type': 'application/x-ndjson' } },
      bulkResponse,
    );
    if (res.errors) {
      const item = res.items.map((i) => Object.values(i)[0]).find((i) => i && i.status >= 300);
      throw new ConnectorInvalidResponseError(this.name, `bulk index failed: ${JSON.stringify(item?.error ?? item).slice(0, 300)}`);
    }
  }
}

/** Where audit records are copied: the SIEM named by `audit.forward.to`, with that vendor's connection. */
export type AuditForwardTarget =
  | { to: 'splunk'; hecUrl: string; hecToken: string; index?: string | undefined; sourcetype: string; timeoutMs?: number }
  | { to: 'elasticsearch'; url: string; apiKey?: string | undefined; index: string; timeoutMs?: number };

export function createAuditForwarder(target: AuditForwardTarget | null): AuditForwarder | null {
  if (!target) return null;
  if (target.to === 'splunk') {
    return new SplunkHecForwarder(target.hecUrl, target.hecToken, {
      index: target.index,
      sourcetype: target.sourcetype,
      timeoutMs: target.timeoutMs,
    });
  }
  return new ElasticsearchBulkForwarder(target.url, target.index, target.apiKey, target.timeoutMs);
}
