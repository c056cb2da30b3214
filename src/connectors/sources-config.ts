/**
 * Configuration of the enrichment sources: for each, `file` (the embedded default, under `connectors.dataDir`) or
 * one real HTTP implementation. Part of the one configuration schema in src/config.ts (which passes its secret
 * type in, so `env:NAME` / `file:PATH` references work here too); documented in README under "Enrichment sources".
 */
import { z } from 'zod';
import { CHANGE_KINDS } from '../contracts/playbook';

/** The secret type of src/config.ts: a string, resolved from `env:` or `file:` references. */
type Secret = z.ZodType<string, string>;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const timeoutMs = z.number().int().positive().max(120_000).default(15_000);
const name = z.string().trim().min(1);
const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.@-]*$/, 'must be a field name');

const fileSource = z.strictObject({ type: z.literal('file') });

const bearer = (secret: Secret) => z.strictObject({ type: z.literal('bearer'), token: secret });

export function oktaSourceSchema(secret: Secret) {
  return z.strictObject({
    type: z.literal('okta'),
    /** The Okta org, e.g. https://acme.okta.com. */
    orgUrl: httpUrl,
    /** `ssws`: an API token (Authorization: SSWS ...); `bearer`: an OAuth 2.0 access token for a service app. */
    auth: z.discriminatedUnion('type', [z.strictObject({ type: z.literal('ssws'), token: secret }), bearer(secret)]),
    timeoutMs,
    /** Appended to alert user names without an `@` to form the Okta login (e.g. "@acme.com"). */
    loginSuffix: z
      .string()
      .regex(/^@[^@\s]+$/, 'must look like @example.com')
      .optional(),
    /** Members of any of these Okta groups (by group name) are authorized to use cloud storage. */
    cloudStorageGroups: z.array(name).min(1, 'name at least one Okta group whose members may use cloud storage'),
    /** Which Okta profile attributes hold what this playbook reads. */
    profile: z
      .strictObject({
        department: fieldName.default('department'),
        title: fieldName.default('title'),
        manager: fieldName.default('managerId'),
        timezone: fieldName.default('timezone'),
        employmentStatus: fieldName.default('employmentStatus'),
      })
      .default({
        department: 'department',
        title: 'title',
        manager: 'managerId',
        timezone: 'timezone',
        employmentStatus: 'employmentStatus',
      }),
  });
}

export function serviceNowSourceSchema(secret: Secret) {
  return z.strictObject({
    type: z.literal('servicenow'),
    /** The instance, e.g. https://acme.service-now.com. */
    instanceUrl: httpUrl,
    auth: z.discriminatedUnion('type', [z.strictObject({ type: z.literal('basic'), username: name, password: secret }), bearer(secret)]),
    timeoutMs,
    /** Encoded query selecting cloud-storage related changes; the time window is ANDed to it. */
    query: z
      .string()
      .min(1)
      .refine((q) => !/\^NQ|\^ORDERBY/i.test(q), 'must be a plain encoded query (no ^NQ or ^ORDERBY)')
      .default('u_cloud_storage=true'),
    /** Custom fields holding what a change covers (comma- or newline-separated values) and its kind. */
    fields: z
      .strictObject({
        kind: fieldName.default('u_change_kind'),
        users: fieldName.default('u_covered_users'),
        groups: fieldName.default('u_covered_groups'),
        domains: fieldName.default('u_covered_domains'),
      })
      .default({ kind: 'u_change_kind', users: 'u_covered_users', groups: 'u_covered_groups', domains: 'u_covered_domains' }),
    /** The kind recorded when the kind field is empty. */
    defaultKind: z.enum(CHANGE_KINDS).default('configuration-change'),
    pageSize: z.number().int().min(1).max(10_000).default(100),
    maxRecords: z.number().int().min(1).max(100_000).default(1000),
  });
}

export function intuneSourceSchema(secret: Secret) {
  return z.strictObject({
    type: z.literal('intune'),
    /** Entra ID tenant (GUID or domain). */
    tenantId: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a tenant ID or domain'),
    clientId: name,
    clientSecret: secret,
    /** The Microsoft identity platform; tests point it at a stand-in. */
    authorityUrl: httpUrl.default('https://login.microsoftonline.com'),
    graphUrl: httpUrl.default('https://graph.microsoft.com'),
    timeoutMs,
    /** Intune complianceState values under which a device may use cloud storage. */
    allowedComplianceStates: z
      .array(z.enum(['compliant', 'inGracePeriod', 'noncompliant', 'conflict', 'error', 'unknown', 'configManager']))
      .min(1)
      .default(['compliant']),
    /** Only corporate-owned devices (managedDeviceOwnerType = company) may use cloud storage. */
    requireCorporateOwned: z.boolean().default(true),
  });
}

export function elasticsearchSourceSchema(secret: Secret) {
  return z.strictObject({
    type: z.literal('elasticsearch'),
    /** e.g. https://siem.acme.internal:9200 (or an Elastic Cloud endpoint). */
    url: httpUrl,
    /** The base64 `id:api_key` value ("encoded" in the create-API-key response); sent as `Authorization: ApiKey ...`. */
    apiKey: secret,
    timeoutMs,
    /** Index or pattern of the proxy / CASB events, e.g. "logs-proxy-*". */
    index: z.string().regex(/^[A-Za-z0-9*,._:+-]+$/, 'must be an index name or pattern'),
    userField: fieldName.default('user.name'),
    timeField: fieldName.default('@timestamp'),
    /** Bytes uploaded per event. */
    bytesField: fieldName.default('http.request.bytes'),
    /** Extra Elasticsearch query clauses (filter context) that select cloud-storage uploads. */
    filter: z.array(z.record(z.string(), z.unknown())).default([]),
  });
}

export function sourcesSchemas(secret: Secret) {
  return {
    hr: z.discriminatedUnion('type', [fileSource, oktaSourceSchema(secret)]).default({ type: 'file' }),
    changes: z.discriminatedUnion('type', [fileSource, serviceNowSourceSchema(secret)]).default({ type: 'file' }),
    devices: z.discriminatedUnion('type', [fileSource, intuneSourceSchema(secret)]).default({ type: 'file' }),
    baselines: z.discriminatedUnion('type', [fileSource, elasticsearchSourceSchema(secret)]).default({ type: 'file' }),
  };
}

export type OktaSourceConfig = z.infer<ReturnType<typeof oktaSourceSchema>>;
export type ServiceNowSourceConfig = z.infer<ReturnType<typeof serviceNowSourceSchema>>;
export type IntuneSourceConfig = z.infer<ReturnType<typeof intuneSourceSchema>>;
export type ElasticsearchSourceConfig = z.infer<ReturnType<typeof elasticsearchSourceSchema>>;

export interface SourcesConfig {
  hr: { type: 'file' } | OktaSourceConfig;
  changes: { type: 'file' } | ServiceNowSourceConfig;
  devices: { type: 'file' } | IntuneSourceConfig;
  baselines: { type: 'file' } | ElasticsearchSourceConfig;
}

/** Every secret in the source configuration, for log redaction. */
export function sourceSecrets(sources: SourcesConfig): string[] {
  const out: string[] = [];
  if (sources.hr.type === 'okta') out.push(sources.hr.auth.token);
  if (sources.changes.type === 'servicenow') {
    out.push(sources.changes.auth.type === 'basic' ? sources.changes.auth.password : sources.changes.auth.token);
  }
  if (sources.devices.type === 'intune') out.push(sources.devices.clientSecret);
  if (sources.baselines.type === 'elasticsearch') out.push(sources.baselines.apiKey);
  return out;
}

/** The loggable view: secrets replaced. */
export function sanitizeSources<T extends SourcesConfig>(sources: T): T {
  const r = '[redacted]';
  return {
    ...sources,
    hr: sources.hr.type === 'okta' ? { ...sources.hr, auth: { ...sources.hr.auth, token: r } } : sources.hr,
    changes:
      sources.changes.type === 'servicenow'
        ? {
            ...sources.changes,
            auth: sources.changes.auth.type === 'basic' ? { ...sources.changes.auth, password: r } : { ...sources.changes.auth, token: r },
          }
        : sources.changes,
    devices: sources.devices.type === 'intune' ? { ...sources.devices, clientSecret: r } : sources.devices,
    baselines: sources.baselines.type === 'elasticsearch' ? { ...sources.baselines, apiKey: r } : sources.baselines,
  };
}
