/**
 * Kibana Security rules through the Webhook connector. The body is whatever the rule author templates; the
 * template shipped in examples/kibana-webhook-template.json sends the rule's context and `context.alerts`, the
 * alert documents with their ECS fields (flattened or nested). One alert per element of `alerts`; the dedup key is
 * `kibana.alert.uuid`.
 */
import { z } from 'zod';
import type { ErrorDetail } from '../error-details';
import { NO_ORG, type OrgIdentity } from '../identity/canonical';
import { zodDetails } from '../error-details';
import { finish, firstOf, hostOfUrl, type Located, type Normalized } from './normalize';
import { normalizeSeverity } from './values';

/** A batch larger than this is refused whole: split it in Kibana (max alerts per run) rather than half-accept it. */
export const MAX_ELASTIC_BATCH = 500;

const optionalText = z.string({ message: 'must be a string' }).max(2048, 'must be at most 2048 characters').optional();

export const elasticBodySchema = z.looseObject({
  rule: z
    .looseObject({
      id: optionalText,
      name: optionalText,
      severity: optionalText,
      url: optionalText,
    })
    .optional(),
  alerts: z
    .array(z.unknown(), { message: 'must be an array of alert documents' })
    .min(1, 'must contain at least one alert')
    .max(MAX_ELASTIC_BATCH, `must contain at most ${MAX_ELASTIC_BATCH} alerts per request`),
});

export function normalizeElastic(
  body: unknown,
  now: Date,
  org: OrgIdentity = NO_ORG,
): { envelope: ErrorDetail[] } | { alerts: Normalized[] } {
  const parsed = elasticBodySchema.safeParse(body);
  if (!parsed.success) return { envelope: zodDetails(parsed.error, body) };
  const rule = parsed.data.rule ?? {};
  return {
    alerts: parsed.data.alerts.map((doc, index): Normalized => {
      const prefix = `alerts.${index}.`;
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
        return { ok: false, details: [{ path: `alerts.${index}`, message: 'must be an alert document (an object)' }] };
      }
      const url = firstOf(doc, ['url.full', 'url.original'], prefix);
      const dest = firstOf(doc, ['destination.domain', 'url.domain'], prefix);
      const severity = firstOf(doc, ['kibana.alert.severity', 'event.severity'], prefix);
      const ruleName = firstOf(doc, ['kibana.alert.rule.name'], prefix);
      const fallback = (located: Located, value: unknown, path: string): Located =>
        located.value === undefined && value !== undefined ? { value, path } : located;
      return finish(
        {
          source: 'elastic',
          raw: { rule, alert: doc },
          fields: {
            alertId: firstOf(doc, ['kibana.alert.uuid'], prefix),
            user: firstOf(doc, ['user.name'], prefix),
            host: firstOf(doc, ['host.name', 'host.hostname'], prefix),
            srcIp: firstOf(doc, ['source.ip', 'client.ip'], prefix),
            destDomain: fallback(dest, hostOfUrl(url.value), dest.path),
            destUrl: url,
            bytesOut: firstOf(doc, ['source.bytes', 'client.bytes'], prefix),
            eventTime: firstOf(doc, ['kibana.alert.original_time', '@timestamp'], prefix),
            severity: fallback(
              { value: normalizeSeverity(severity.value) ?? severity.value, path: severity.path },
              rule.severity === undefined ? undefined : (normalizeSeverity(rule.severity) ?? rule.severity),
              'rule.severity',
            ),
            ruleName: fallback(ruleName, rule.name, 'rule.name'),
          },
        },
        now,
        org,
      );
    }),
  };
}
