/**
 * The user's normal daily upload volume to cloud storage from Elasticsearch: one `_search` with `size: 0`, the
 * user's events in the 30 whole UTC days before the event's day, a daily `date_histogram` with a `sum` of the bytes
 * field. Mean and population standard deviation are computed here over the days from the user's first upload in the
 * window to the day before the event (days before the first upload are "no history", not zero-volume days; the
 * event's own day is left out so the upload under review does not dilute its own baseline).
 * With the user's time zone (the volume rule since t1567.002-rules/2), the same search covers the user's 30 whole
 * local days before the event's local day and that day so far, up to the event (exclusive: the upload under review
 * is counted by the case itself); the histogram runs in that time zone, so its buckets are the user's days, and the
 * last bucket is "the event's day so far".
 * Needs an API key with the `read` index privilege on the index pattern.
 */
import { z } from 'zod';
import type { BaselineFinding } from '../../contracts/playbook';
import type { DayQuery, UploadBaselines } from '../../contracts/ports';
import { localDayOf, localDaysBefore } from '../../enrichment/local-day';
import { ConnectorInvalidResponseError } from '../errors';
import { ELASTICSEARCH_PROVIDER, type ElasticsearchClient } from './client';

export const BASELINE_DAYS = 30;
const DAY_MS = 86_400_000;

export interface ElasticsearchBaselineOptions {
  index: string;
  userField: string;
  timeField: string;
  bytesField: string;
  /** Extra filter clauses selecting cloud-storage uploads. */
  filter: Record<string, unknown>[];
}

const aggregationSchema = z.object({
  aggregations: z.object({
    daily: z.object({
      buckets: z.array(
        z.object({
          key: z.number(),
          key_as_string: z.string().optional(),
          doc_count: z.number().int().nonnegative(),
          uploaded_bytes: z.object({ value: z.number().nullable() }),
        }),
      ),
    }),
  }),
});

/** Mean and population standard deviation of daily totals. */
export function dailyStats(dailyBytes: number[]): { days: number; meanBytes: number; stdDevBytes: number } {
  const days = dailyBytes.length;
  if (days === 0) return { days: 0, meanBytes: 0, stdDevBytes: 0 };
  const mean = dailyBytes.reduce((a, b) => a + b, 0) / days;
  const variance = dailyBytes.reduce((a, b) => a + (b - mean) ** 2, 0) / days;
  return { days, meanBytes: Math.round(mean), stdDevBytes: Math.round(Math.sqrt(variance)) };
}

export class ElasticsearchUploadBaselines implements UploadBaselines {
  readonly name: string;

  constructor(
    private readonly client: ElasticsearchClient,
    private readonly options: ElasticsearchBaselineOptions,
  ) {
    this.name = `${ELASTICSEARCH_PROVIDER}:${options.index}`;
  }

  /** The `_search` body for the 30 days before `asOf`'s UTC day. */
  searchBody(user: string, asOf: Date): Record<string, unknown> {
    const end = Math.floor(asOf.getTime() / DAY_MS) * DAY_MS;
    const start = end - BASELINE_DAYS * DAY_MS;
    return this.dailyBytesSearch(user, { from: start, to: end, timezone: 'UTC', lastBucket: end - DAY_MS });
  }

  /**
   * The `_search` body for the user's 30 local days before `asOf`'s local day and that day up to `asOf`: the same
   * shape, with the histogram in the user's time zone and one more bucket (the day so far).
   */
  daySearchBody(user: string, asOf: Date, timezone: string): Record<string, unknown> {
    const [start = 0] = localDaysBefore(asOf, timezone, BASELINE_DAYS);
    const today = Date.parse(localDayOf(asOf, timezone).start);
    return this.dailyBytesSearch(user, { from: start, to: asOf.getTime(), timezone, lastBucket: today });
  }

  /** The user's uploaded bytes per day in [from, to), one bucket per day of `timezone` up to `lastBucket`, empty days included. */
  private dailyBytesSearch(
    user: string,
    range: { from: number; to: number; timezone: string; lastBucket: number },
  ): Record<string, unknown> {
    const o = this.options;
    return {
      size: 0,
      track_total_hits: false,
      query: {
        bool: {
          filter: [
            { term: { [o.userField]: user } },
            { range: { [o.timeField]: { gte: new Date(range.from).toISOString(), lt: new Date(range.to).toISOString() } } },
            ...o.filter,
          ],
        },
      },
      aggs: {
        daily: {
          date_histogram: {
            field: o.timeField,
            calendar_interval: '1d',
            time_zone: range.timezone,
            min_doc_count: 0,
            extended_bounds: { min: range.from, max: range.lastBucket },
          },
          aggs: { uploaded_bytes: { sum: { field: o.bytesField } } },
        },
      },
    };
  }

  async baselineFor(user: string, asOf?: string, day?: DayQuery): Promise<BaselineFinding | null> {
    const at = asOf === undefined ? new Date() : new Date(asOf);
    if (Number.isNaN(at.getTime())) throw new ConnectorInvalidResponseError(ELASTICSEARCH_PROVIDER, `invalid time "${asOf}"`);
    if (day) return this.withDay(user, at, day);
    const body = this.searchBody(user, at);
    const result = await this.client.search(`daily upload volume of ${user}`, this.options.index, body, aggregationSchema);
    const buckets = [...result.aggregations.daily.buckets].sort((a, b) => a.key - b.key);
    if (buckets.length > BASELINE_DAYS) {
      throw new ConnectorInvalidResponseError(
        ELASTICSEARCH_PROVIDER,
        `expected at most ${BASELINE_DAYS} daily buckets, got ${buckets.length}`,
      );
    }
    const first = buckets.findIndex((b) => b.doc_count > 0);
    const history = first === -1 ? [] : buckets.slice(first);
    return { user, ...dailyStats(history.map((b) => b.uploaded_bytes.value ?? 0)) };
  }

  private async withDay(user: string, at: Date, day: DayQuery): Promise<BaselineFinding> {
    const local = localDayOf(at, day.timezone);
    const today = Date.parse(local.start);
    const body = this.daySearchBody(user, at, day.timezone);
    const result = await this.client.search(`daily upload volume of ${user}`, this.options.index, body, aggregationSchema);
    const buckets = [...result.aggregations.daily.buckets].sort((a, b) => a.key - b.key);
    if (buckets.length > BASELINE_DAYS + 1 || buckets.some((b) => b.key > today)) {
      throw new ConnectorInvalidResponseError(
        ELASTICSEARCH_PROVIDER,
        `expected at most ${BASELINE_DAYS + 1} daily buckets up to ${local.start}, got ${buckets.length}`,
      );
    }
    const past = buckets.filter((b) => b.key < today);
    const first = past.findIndex((b) => b.doc_count > 0);
    const history = first === -1 ? [] : past.slice(first);
    const priorBytes = buckets.find((b) => b.key === today)?.uploaded_bytes.value ?? 0;
    return {
      user,
      ...dailyStats(history.map((b) => b.uploaded_bytes.value ?? 0)),
      day: {
        timezone: day.timezone,
        timezoneSource: day.timezoneSource,
        date: local.date,
        start: local.start,
        end: local.end,
        priorBytes,
        priorFrom: `${this.name}, ${local.date} up to the event`,
      },
    };
  }
}
