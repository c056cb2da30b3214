/**
 * The project's own schema (`POST /webhooks/siem/generic`): exactly the normalized alert fields, strictly typed,
 * unknown fields refused. As JSON, one alert; as NDJSON (`application/x-ndjson`), one alert per line.
 */
import { genericWebhookBodySchema } from '../contracts/alert';
import { zodDetails } from '../error-details';
import { NO_ORG, type OrgIdentity } from '../identity/canonical';
import { eventTimeProblem, withCanonicalUser, type Normalized } from './normalize';

export function normalizeGeneric(body: unknown, now: Date, pathPrefix = '', org: OrgIdentity = NO_ORG): Normalized {
  const parsed = genericWebhookBodySchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, details: zodDetails(parsed.error, body).map((d) => ({ ...d, path: pathPrefix + d.path })) };
  }
  const problem = eventTimeProblem(parsed.data.eventTime, now);
  if (problem) return { ok: false, details: [{ path: `${pathPrefix}eventTime`, message: problem }] };
  return withCanonicalUser({ ...parsed.data, source: 'generic', raw: body }, `${pathPrefix}user`, org);
}
