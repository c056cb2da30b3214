/**
 * Audit records to Splunk's HTTP Event Collector: `POST /services/collector/event`, `Authorization: Splunk <token>`.
 * HEC answers `{"text": "Success", "code": 0}`; any other code is a failure.
 */
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import type { AuditForwarder, ForwardedAuditRecord } from '../../contracts/ports';
import { ConnectorInvalidResponseError } from '../errors';
import { createHttpClient, requestJson } from '../http';

const hecResponse = z.object({ text: z.string(), code: z.number() });

/** HEC's error body `{"text": "Invalid token", "code": 4}`: the code. */
function hecErrorCode(body: unknown): string | undefined {
  const parsed = hecResponse.safeParse(body);
  return parsed.success ? String(parsed.data.code) : undefined;
}

export interface SplunkHecOptions {
  url: string;
  token: string;
  index?: string | undefined;
  sourcetype: string;
  timeoutMs?: number;
}

export class SplunkHecForwarder implements AuditForwarder {
  readonly name = 'splunk-hec';
  private readonly http: AxiosInstance;

  constructor(private readonly options: SplunkHecOptions) {
    this.http = createHttpClient({
      provider: this.name,
      baseURL: options.url,
      timeoutMs: options.timeoutMs,
      headers: { authorization: `Splunk ${options.token}` },
    });
  }

  async forward(record: ForwardedAuditRecord): Promise<void> {
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
      hecErrorCode,
    );
    if (res.code !== 0) throw new ConnectorInvalidResponseError(this.name, `HEC answered code ${res.code}: ${res.text}`);
  }
}
