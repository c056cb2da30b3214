/**
 * Recent cloud-storage changes, exceptions and pilots from ServiceNow's `change_request` table.
 *
 * What a change covers lives in custom fields (default `u_covered_users`, `u_covered_groups`, `u_covered_domains`,
 * comma- or newline-separated, and `u_change_kind`) rather than being parsed out of the description: a
 * justification excuses off-hours uploads, so it must come from structured fields a change manager fills in and
 * ACLs can protect, never from free text anyone editing the ticket can write. The validity window is the planned
 * `start_date` / `end_date`; a change counts as approved only when `approval` is `approved` and it was not cancelled.
 *
 * Dates: the Table API returns and compares date-times in the integration user's time zone; give that user the UTC
 * time zone (as ServiceNow recommends for integration accounts).
 */
import { z } from 'zod';
import { CHANGE_KINDS, type ChangeKind, type PolicyChangeRecord } from '../../contracts/playbook';
import type { ChangeRecords } from '../../contracts/ports';
import { ConnectorInvalidResponseError } from '../errors';
import { SERVICENOW_PROVIDER, ServiceNowClient, type ServiceNowClientOptions } from './client';

/** ServiceNow change_request `state` value of a cancelled change. */
const STATE_CANCELED = '4';

export interface ServiceNowChangeOptions extends ServiceNowClientOptions {
  /** Encoded query selecting cloud-storage changes, e.g. "u_cloud_storage=true" or "category=Cloud Storage". */
  query: string;
  fields: { kind: string; users: string; groups: string; domains: string };
  defaultKind: ChangeKind;
  pageSize: number;
  maxRecords: number;
}

const SERVICENOW_DATETIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/;

/** "2026-11-28 01:14:00" (UTC) <-> ISO 8601. */
export function toServiceNowDateTime(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace('T', ' ');
}

function fromServiceNowDateTime(value: string, field: string): string {
  const match = SERVICENOW_DATETIME.exec(value);
  if (!match) throw new ConnectorInvalidResponseError(SERVICENOW_PROVIDER, `${field} "${value}" is not a date-time`);
  return `${match[1]}T${match[2]}Z`;
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(/[,;\n\r]+/)
    .map((v) => v.trim())
    .filter((v) => v.length > 0);

const KIND_WORDS = new Map<string, ChangeKind>(CHANGE_KINDS.map((k) => [k, k]));

export class ServiceNowChangeRecords implements ChangeRecords {
  readonly name = `${SERVICENOW_PROVIDER}:change_request`;
  private readonly client: ServiceNowClient;

  constructor(private readonly options: ServiceNowChangeOptions) {
    this.client = new ServiceNowClient(options);
  }

  /** The encoded query for changes whose planned window overlaps [since, until]. */
  encodedQuery(window: { since: string; until: string }): string {
    // `^OR` binds to the condition before it: (end >= since OR end empty).
    return (
      `${this.options.query}^start_date<=${toServiceNowDateTime(window.until)}` +
      `^end_date>=${toServiceNowDateTime(window.since)}^ORend_dateISEMPTY^ORDERBYstart_date`
    );
  }

  async listCloudStorageChanges(window: { since: string; until: string }): Promise<PolicyChangeRecord[]> {
    const f = this.options.fields;
    const record = z
      .object({
        sys_id: z.string().min(1),
        number: z.string().min(1),
        short_description: z.string(),
        state: z.string(),
        approval: z.string(),
        start_date: z.string().min(1),
        end_date: z.string(),
      })
      .catchall(z.unknown());
    const params = {
      sysparm_query: this.encodedQuery(window),
      sysparm_fields: [
        'sys_id',
        'number',
        'short_description',
        'state',
        'approval',
        'start_date',
        'end_date',
        f.kind,
        f.users,
        f.groups,
        f.domains,
      ].join(','),
      sysparm_display_value: 'false',
      sysparm_exclude_reference_link: 'true',
    };
    const rows: z.infer<typeof record>[] = [];
    for (let offset = 0; offset < this.options.maxRecords; offset += this.options.pageSize) {
      const limit = Math.min(this.options.pageSize, this.options.maxRecords - offset);
      const page = await this.client.tablePage(
        'list cloud-storage change requests',
        'change_request',
        { ...params, sysparm_limit: limit, sysparm_offset: offset },
        record,
      );
      rows.push(...page);
      if (page.length < limit) break;
    }
    return rows.map((row) => {
      const fields: Record<string, string | undefined> = {};
      for (const field of [f.kind, f.users, f.groups, f.domains]) {
        const value = row[field];
        if (value !== undefined && value !== null && typeof value !== 'string') {
          throw new ConnectorInvalidResponseError(SERVICENOW_PROVIDER, `${row.number}: ${field} is not a string`);
        }
        fields[field] = value ?? undefined;
      }
      const kindValue = (fields[f.kind] ?? '')
        .trim()
        .toLowerCase()
        .replace(/[\s_]+/g, '-');
      const kind = kindValue === '' ? this.options.defaultKind : KIND_WORDS.get(kindValue);
      if (kind === undefined) {
        throw new ConnectorInvalidResponseError(
          SERVICENOW_PROVIDER,
          `${row.number}: ${f.kind} "${fields[f.kind]}" is not one of ${CHANGE_KINDS.join(', ')}`,
        );
      }
      return {
        id: row.number,
        kind,
        title: row.short_description,
        approved: row.approval === 'approved' && row.state !== STATE_CANCELED,
        users: list(fields[f.users]),
        groups: list(fields[f.groups]),
        domains: list(fields[f.domains]),
        validFrom: fromServiceNowDateTime(row.start_date, `${row.number} start_date`),
        validTo: row.end_date === '' ? null : fromServiceNowDateTime(row.end_date, `${row.number} end_date`),
      };
    });
  }
}
