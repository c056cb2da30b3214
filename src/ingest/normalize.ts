/**
 * The last step every source shares: a candidate (each normalized field with the path it came from in the SIEM's
 * body) is validated against the normalized alert schema, and every problem is reported under the SIEM's own field
 * name, so a Splunk admin reads `result.bytes_out`, not `bytesOut`.
 */
import { alertFieldsSchema, MAX_EVENT_TIME_SKEW_MS, type AlertSource, type NormalizedAlert } from '../contracts/alert';
import type { ErrorDetail } from '../error-details';
import { canonicalIdentity, NO_ORG, type OrgIdentity } from '../identity/canonical';
import { parseBytes, parseTime } from './values';

export type AlertFieldName = keyof typeof alertFieldsSchema.shape;

export interface Located {
  value: unknown;
  /** Where the value is (or was expected) in the SIEM's body, e.g. `result.bytes_out`. */
  path: string;
}

export interface Candidate {
  source: AlertSource;
  raw: unknown;
  fields: Record<AlertFieldName, Located>;
}

export type Normalized = { ok: true; alert: NormalizedAlert } | { ok: false; details: ErrorDetail[] };

/** Event times beyond these bounds are implausible: a SIEM clock or field problem, not an alert to act on. */
export const MAX_FUTURE_SKEW_MS = 15 * 60_000;

export function eventTimeProblem(eventTime: string, now: Date): string | null {
  const skew = Date.parse(eventTime) - now.getTime();
  if (skew > MAX_FUTURE_SKEW_MS) return 'is more than 15 minutes in the future';
  if (-skew > MAX_EVENT_TIME_SKEW_MS) return 'is more than a year in the past';
  return null;
}

const absent = (v: unknown) => v === undefined || v === null;

/**
 * The alert with its user in canonical form (src/identity/canonical.ts): what the run compares, looks up, contains
 * and keys its case on. The SIEM's own form stays as evidence in `userAsSent` when it differs. A name that cannot be
 * canonicalised (a look-alike that mixes scripts) is refused under the SIEM's field name.
 */
export function withCanonicalUser(alert: NormalizedAlert, userPath: string, org: OrgIdentity): Normalized {
  const identity = canonicalIdentity(alert.user, org);
  if (!identity.ok) return { ok: false, details: [{ path: userPath, message: identity.reason }] };
  if (identity.name === alert.user) return { ok: true, alert };
  return { ok: true, alert: { ...alert, user: identity.name, userAsSent: alert.user } };
}

export function finish(candidate: Candidate, now: Date, org: OrgIdentity = NO_ORG): Normalized {
  const details: ErrorDetail[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, located] of Object.entries(candidate.fields) as [AlertFieldName, Located][]) {
    if (absent(located.value)) {
      if (name !== 'destUrl') details.push({ path: located.path, message: 'is required' });
      continue;
    }
    if (name === 'bytesOut') {
      const bytes = parseBytes(located.value);
      if (bytes.ok) values.bytesOut = bytes.value;
      else details.push({ path: located.path, message: bytes.message });
      continue;
    }
    if (name === 'eventTime') {
      const time = parseTime(located.value);
      if (!time.ok) details.push({ path: located.path, message: time.message });
      else {
        const problem = eventTimeProblem(time.value, now);
        if (problem) details.push({ path: located.path, message: problem });
        else values.eventTime = time.value;
      }
      continue;
    }
    values[name] = typeof located.value === 'string' ? located.value.trim() : located.value;
  }
  const parsed = alertFieldsSchema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path[0] as AlertFieldName | undefined;
      // Fields already reported above are absent from `values`; skip the schema's duplicate "required".
      if (name === undefined || !(name in values)) continue;
      details.push({ path: candidate.fields[name].path, message: issue.message });
    }
  }
  if (details.length > 0 || !parsed.success) return { ok: false, details };
  return withCanonicalUser({ ...parsed.data, source: candidate.source, raw: candidate.raw }, candidate.fields.user.path, org);
}

/**
 * Reads a field by its dotted ECS-style name from a document that may hold it flattened (`"user.name": "x"`),
 * nested (`"user": {"name": "x"}`) or mixed, as Kibana alert documents do. Own properties only.
 */
export function pick(doc: unknown, dotted: string): unknown {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const record = doc as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(record, dotted)) return record[dotted];
  const parts = dotted.split('.');
  for (let i = parts.length - 1; i >= 1; i--) {
    const head = parts.slice(0, i).join('.');
    if (Object.prototype.hasOwnProperty.call(record, head)) {
      const found = pick(record[head], parts.slice(i).join('.'));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The first of several candidate fields that is present, with its path. */
export function firstOf(doc: unknown, paths: string[], prefix = ''): Located {
  for (const p of paths) {
    const value = pick(doc, p);
    if (!absent(value) && value !== '') return { value, path: prefix + p };
  }
  return { value: pick(doc, paths[0] ?? ''), path: prefix + (paths[0] ?? '') };
}

/** The host of an http(s) URL, or undefined. */
export function hostOfUrl(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.hostname : undefined;
  } catch {
    return undefined;
  }
}
