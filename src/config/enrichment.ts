/**
 * `enrichment`: for each source the playbook reads, `file` (the embedded default, under `enrichment.dataDir`) or the
 * vendor that serves it; the vendor's connection is in `vendors`, the settings of this use of it stay here.
 */
import { z } from 'zod';
import { CHANGE_KINDS } from '../contracts/playbook';

const name = z.string().trim().min(1);
const fieldName = z.string().regex(/^[A-Za-z_@][A-Za-z0-9_.@-]*$/, 'must be a field name');
const file = z.strictObject({ source: z.literal('file') });

const hr = z.discriminatedUnion('source', [
  file,
  z.strictObject({
    /** Served by `vendors.okta`. */
    source: z.literal('okta'),
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
      .prefault({}),
  }),
]);

const changes = z.discriminatedUnion('source', [
  file,
  z.strictObject({
    /** Served by `vendors.servicenow`. */
    source: z.literal('servicenow'),
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
      .prefault({}),
    /** The kind recorded when the kind field is empty. */
    defaultKind: z.enum(CHANGE_KINDS).default('configuration-change'),
    pageSize: z.number().int().min(1).max(10_000).default(100),
    maxRecords: z.number().int().min(1).max(100_000).default(1000),
  }),
]);

const devices = z.discriminatedUnion('source', [
  file,
  z.strictObject({
    /** Microsoft Intune, served by `vendors.microsoftEntra`. */
    source: z.literal('intune'),
    /** Intune complianceState values under which a device may use cloud storage. */
    allowedComplianceStates: z
      .array(z.enum(['compliant', 'inGracePeriod', 'noncompliant', 'conflict', 'error', 'unknown', 'configManager']))
      .min(1)
      .default(['compliant']),
    /** Only corporate-owned devices (managedDeviceOwnerType = company) may use cloud storage. */
    requireCorporateOwned: z.boolean().default(true),
  }),
]);

const baselines = z.discriminatedUnion('source', [
  file,
  z.strictObject({
    /** Served by `vendors.elasticsearch`. */
    source: z.literal('elasticsearch'),
    /** Index or pattern of the proxy / CASB events, e.g. "logs-proxy-*". */
    index: z.string().regex(/^[A-Za-z0-9*,._:+-]+$/, 'must be an index name or pattern'),
    userField: fieldName.default('user.name'),
    timeField: fieldName.default('@timestamp'),
    /** Bytes uploaded per event. */
    bytesField: fieldName.default('http.request.bytes'),
    /** Extra Elasticsearch query clauses (filter context) that select cloud-storage uploads. */
    filter: z.array(z.record(z.string(), z.unknown())).default([]),
  }),
]);

export const enrichmentSection = z.strictObject({
  /** Folder of the file-backed sources (HR directory, devices, baselines, domains, changes). */
  dataDir: z.string().default('config/data'),
  hr: hr.default({ source: 'file' }),
  changes: changes.default({ source: 'file' }),
  devices: devices.default({ source: 'file' }),
  baselines: baselines.default({ source: 'file' }),
});

export type EnrichmentConfig = z.infer<typeof enrichmentSection>;

/** The vendor block that serves each enrichment source. */
export const ENRICHMENT_VENDORS = {
  okta: 'okta',
  servicenow: 'servicenow',
  intune: 'microsoftEntra',
  elasticsearch: 'elasticsearch',
} as const;
