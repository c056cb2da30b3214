/** Formats of the file-backed sources under `enrichment.dataDir` (documented in docs/enrichment.md). */
import { z } from 'zod';
import { CHANGE_KINDS, EMPLOYMENT_STATUSES } from '../../contracts/playbook';
import { isValidTimezone } from '../../enrichment/business-hours';

const name = z.string().trim().min(1);
const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' });

export const cloudStorageFileSchema = z.strictObject({
  approvedDomains: z.array(name),
  services: z.array(z.strictObject({ name, domains: z.array(name).min(1) })),
});

export const hrDirectoryFileSchema = z.strictObject({
  users: z.array(
    z.strictObject({
      user: name,
      displayName: name,
      department: name,
      title: name,
      groups: z.array(name).default([]),
      employmentStatus: z.enum(EMPLOYMENT_STATUSES),
      manager: name.nullable().default(null),
      timezone: z.string().refine(isValidTimezone, 'must be an IANA time zone'),
      cloudStorageAuthorized: z.boolean(),
    }),
  ),
});

export const devicesFileSchema = z.strictObject({
  devices: z.array(
    z.strictObject({
      host: name,
      managed: z.boolean(),
      owner: name.nullable().default(null),
      cloudStorageAllowed: z.boolean(),
    }),
  ),
});

export const uploadBaselinesFileSchema = z.strictObject({
  baselines: z.array(
    z.strictObject({
      user: name,
      /** Total bytes uploaded to cloud storage per day, oldest first, at most the last 30 days. */
      dailyBytes: z.array(z.number().int().nonnegative()).max(30, 'holds at most 30 days'),
      /**
       * Bytes already known to be uploaded on a local date (YYYY-MM-DD in the user's time zone), before the alerts
       * the playbook records: counted into "the day so far" of an upload on that date.
       */
      uploadsByDate: z
        .record(z.string(), z.number().int().nonnegative())
        .superRefine((byDate, ctx) => {
          for (const key of Object.keys(byDate)) {
            if (!/^\d{4}-\d{2}-\d{2}$/.test(key))
              ctx.addIssue({ code: 'custom', path: [key], message: 'keys are local dates, YYYY-MM-DD' });
          }
        })
        .optional(),
    }),
  ),
});

export const policyChangesFileSchema = z.strictObject({
  changes: z.array(
    z.strictObject({
      id: name,
      kind: z.enum(CHANGE_KINDS),
      title: name,
      approved: z.boolean(),
      users: z.array(name).default([]),
      groups: z.array(name).default([]),
      domains: z.array(name).default([]),
      validFrom: isoDateTime,
      validTo: isoDateTime.nullable().default(null),
    }),
  ),
});
