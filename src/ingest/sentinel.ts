/**
 * Microsoft Sentinel incidents, as an automation rule hands them to a Logic App (the "Microsoft Sentinel incident"
 * trigger body), forwarded here by an HTTP action. The alert's fields come from the incident's related entities:
 * Account, Host, Ip, Url and DnsResolution. Sentinel has no byte count of its own: the analytics rule must surface
 * one as the custom detail `BytesOut`, which reaches the incident's alerts in `additionalData["Custom Details"]`.
 * The dedup key is `eventUniqueId`.
 */
import { z } from 'zod';
import type { ErrorDetail } from '../error-details';
import { NO_ORG, type OrgIdentity } from '../identity/canonical';
import { zodDetails } from '../error-details';
import { finish, hostOfUrl, type Located, type Normalized } from './normalize';
import { normalizeSeverity } from './values';

const entitySchema = z.looseObject({
  kind: z.string({ message: 'must be a string' }),
  properties: z.record(z.string(), z.unknown()).optional(),
});

const sentinelAlertSchema = z.looseObject({
  properties: z.looseObject({ additionalData: z.record(z.string(), z.unknown()).optional() }).optional(),
});

export const sentinelBodySchema = z.looseObject({
  eventUniqueId: z.string({ message: 'must be a string' }),
  objectSchemaType: z.literal('Incident', { message: 'must be "Incident": only incident triggers are accepted' }),
  object: z.looseObject({
    properties: z.looseObject({
      title: z.string({ message: 'must be a string' }),
      severity: z.string({ message: 'must be a string' }),
      incidentNumber: z.number({ message: 'must be a number' }).int().optional(),
      incidentUrl: z.string().optional(),
      createdTimeUtc: z.string().optional(),
      firstActivityTimeUtc: z.string().optional(),
      alerts: z.array(sentinelAlertSchema, { message: 'must be an array' }).optional(),
      relatedEntities: z.array(entitySchema, { message: 'must be an array of entities' }),
      additionalData: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
});

type Entity = z.infer<typeof entitySchema>;

/** The custom detail that carries the byte count. */
export const BYTES_CUSTOM_DETAIL = 'BytesOut';

function entityValue(entities: Entity[], kind: string, keys: string[]): Located {
  const index = entities.findIndex((e) => e.kind.toLowerCase() === kind.toLowerCase());
  const base = 'object.properties.relatedEntities';
  const entity = entities[index];
  if (!entity) return { value: undefined, path: `${base}[kind=${kind}]` };
  for (const key of keys) {
    const value = entity.properties?.[key];
    if (value !== undefined && value !== null && value !== '') return { value, path: `${base}.${index}.properties.${key}` };
  }
  return { value: entity.properties?.[keys[0] ?? ''], path: `${base}.${index}.properties.${keys[0] ?? ''}` };
}

/** `Custom Details` is a JSON string (or an object) of arrays: `{"BytesOut": ["734003200"]}`. */
function customDetail(additionalData: Record<string, unknown> | undefined, name: string): unknown {
  let details = additionalData?.['Custom Details'];
  if (typeof details === 'string') {
    try {
      details = JSON.parse(details) as unknown;
    } catch {
      return undefined;
    }
  }
  if (details === null || typeof details !== 'object' || Array.isArray(details)) return undefined;
  if (!Object.prototype.hasOwnProperty.call(details, name)) return undefined;
  const value = (details as Record<string, unknown>)[name];
  return Array.isArray(value) ? value[0] : value;
}

export function normalizeSentinel(body: unknown, now: Date, org: OrgIdentity = NO_ORG): { envelope: ErrorDetail[] } | Normalized {
  const parsed = sentinelBodySchema.safeParse(body);
  if (!parsed.success) return { envelope: zodDetails(parsed.error, body) };
  const incident = parsed.data.object.properties;
  const entities = incident.relatedEntities;

  let bytes: Located = {
    value: undefined,
    path: `object.properties.alerts.0.properties.additionalData["Custom Details"].${BYTES_CUSTOM_DETAIL}`,
  };
  const alerts = incident.alerts ?? [];
  for (let i = 0; i < alerts.length; i++) {
    const value = customDetail(alerts[i]?.properties?.additionalData, BYTES_CUSTOM_DETAIL);
    if (value !== undefined) {
      bytes = { value, path: `object.properties.alerts.${i}.properties.additionalData["Custom Details"].${BYTES_CUSTOM_DETAIL}` };
      break;
    }
  }
  if (bytes.value === undefined) {
    const value = customDetail(incident.additionalData, BYTES_CUSTOM_DETAIL);
    if (value !== undefined) bytes = { value, path: `object.properties.additionalData["Custom Details"].${BYTES_CUSTOM_DETAIL}` };
  }

  const url = entityValue(entities, 'Url', ['url']);
  const dns = entityValue(entities, 'DnsResolution', ['domainName']);
  const time: Located =
    incident.firstActivityTimeUtc !== undefined
      ? { value: incident.firstActivityTimeUtc, path: 'object.properties.firstActivityTimeUtc' }
      : { value: incident.createdTimeUtc, path: 'object.properties.createdTimeUtc' };

  return finish(
    {
      source: 'sentinel',
      raw: body,
      fields: {
        alertId: { value: parsed.data.eventUniqueId, path: 'eventUniqueId' },
        user: entityValue(entities, 'Account', ['accountName', 'friendlyName']),
        host: entityValue(entities, 'Host', ['hostName', 'netBiosName', 'friendlyName']),
        srcIp: entityValue(entities, 'Ip', ['address']),
        destDomain: dns.value === undefined && hostOfUrl(url.value) !== undefined ? { value: hostOfUrl(url.value), path: url.path } : dns,
        destUrl: url,
        bytesOut: bytes,
        eventTime: time,
        severity: { value: normalizeSeverity(incident.severity) ?? incident.severity, path: 'object.properties.severity' },
        ruleName: { value: incident.title, path: 'object.properties.title' },
      },
    },
    now,
    org,
  );
}
