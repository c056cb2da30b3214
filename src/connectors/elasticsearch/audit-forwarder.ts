/**
 * Audit records to Elasticsearch through `_bulk`: the record's hash is the document `_id`, so a re-sent record
 * overwrites itself instead of duplicating. Needs an API key with the `index` privilege on the audit index.
 */
import { z } from 'zod';
import type { AuditForwarder, ForwardedAuditRecord } from '../../contracts/ports';
import { ConnectorInvalidResponseError } from '../errors';
import { ELASTICSEARCH_PROVIDER, type ElasticsearchClient } from './client';

const bulkResponse = z.object({
  errors: z.boolean(),
  items: z.array(z.record(z.string(), z.object({ status: z.number(), error: z.unknown().optional() }))),
});

export class ElasticsearchAuditForwarder implements AuditForwarder {
  readonly name = ELASTICSEARCH_PROVIDER;

  constructor(
    private readonly client: ElasticsearchClient,
    private readonly index: string,
  ) {}

  async forward(record: ForwardedAuditRecord): Promise<void> {
    const ndjson = `${JSON.stringify({ index: { _index: this.index, _id: record.hash } })}\n${JSON.stringify(record)}\n`;
    const res = await this.client.request(
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
