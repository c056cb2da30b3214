/**
 * Splunk's webhook alert action. Splunk posts one JSON object per triggered alert: the search's `sid`,
 * `search_name` (null for an unsaved search), `app`, `owner`, `results_link` and the first result row as `result`, whose values are all strings
 * (`_time` is epoch seconds with a fraction, `bytes_out` a numeric string). The dedup key is `sid`.
 */
import { z } from 'zod';
import type { ErrorDetail } from '../error-details';
import { NO_ORG, type OrgIdentity } from '../identity/canonical';
import { zodDetails } from '../error-details';
import { finish, firstOf, hostOfUrl, type Normalized } from './normalize';
import { normalizeSeverity } from './values';

const text = z.string({ message: 'must be a string' }).trim().min(1, 'must not be empty').max(2048, 'must be at most 2048 characters');

export const splunkBodySchema = z.looseObject({
  sid: text,
  /** Null when the search was not saved (real-time or ad-hoc searches): the rule name then comes from the sid. */
  search_name: text.nullable().optional(),
  app: text.optional(),
  owner: text.optional(),
  results_link: text.optional(),
  result: z.record(z.string(), z.unknown(), { message: 'must be an object of the first result row' }),
});

/** Splunk has no severity in the envelope: a `severity` or `urgency` field in the result wins, else this. */
export const SPLUNK_DEFAULT_SEVERITY = 'medium';

export function normalizeSplunk(body: unknown, now: Date, org: OrgIdentity = NO_ORG): { envelope: ErrorDetail[] } | Normalized {
  const parsed = splunkBodySchema.safeParse(body);
  if (!parsed.success) return { envelope: zodDetails(parsed.error, body) };
  const { sid, search_name: searchName, result } = parsed.data;
  // Splunk does not retry a refused webhook: an unsaved search still names itself by its sid (the original null stays
  // in the evidence, `raw`).
  const ruleName = searchName ?? `Splunk search ${sid}`;
  const url = firstOf(result, ['url', 'uri'], 'result.');
  const dest = firstOf(result, ['dest_host', 'dest', 'url_domain'], 'result.');
  const severity = firstOf(result, ['severity', 'urgency'], 'result.');
  return finish(
    {
      source: 'splunk',
      raw: body,
      fields: {
        alertId: { value: sid, path: 'sid' },
        user: firstOf(result, ['user', 'src_user'], 'result.'),
        host: firstOf(result, ['src_host', 'host'], 'result.'),
        srcIp: firstOf(result, ['src_ip', 'src'], 'result.'),
        destDomain: dest.value === undefined ? { value: hostOfUrl(url.value), path: dest.path } : dest,
        destUrl: url,
        bytesOut: firstOf(result, ['bytes_out'], 'result.'),
        eventTime: firstOf(result, ['_time'], 'result.'),
        severity:
          severity.value === undefined
            ? { value: SPLUNK_DEFAULT_SEVERITY, path: severity.path }
            : { value: normalizeSeverity(severity.value) ?? severity.value, path: severity.path },
        ruleName: { value: ruleName, path: 'search_name' },
      },
    },
    now,
    org,
  );
}
