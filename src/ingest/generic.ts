/**
 * The project's own schema (`POST /webhooks/siem/generic`): exactly the normalized alert fields, strictly typed,
 * unknown fields refused. As JSON, one alert; as NDJSON (`application/x-ndjson`), one alert per line.
 */
import { genericWebhookBodySchema } from '../contracts/alert';
import { zodDetails } from '../error-details';
import { eventTimeProblem, type Normalized } from './normalize';

export function normalizeGeneric(body: unknown, now: Date, pathPrefix = ''): Normalized {
  const parsed = genericWebhookBodySchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, details: zodDetails(parsed.error, body).map((d) => ({ ...d, path: pathPrefix + d.path })) };
  }
  const problem = eventTimeProblem(parsed.data.eventTime, now);
  if (problem) return { ok: false, details: [{ path: `${pathPrefix}eventTime`, message: problem }] };
  return { ok: true, alert: { ...parsed.data, source: 'generic', raw: body } };
}
