/**
 * `containment`: which vendor isolates endpoints and which revoke access, with the settings of those actions. The
 * vendors' connections are in `vendors`; the guard rails a run snapshots are in `playbook.containment`.
 */
import { z } from 'zod';
import { durationMs } from './duration';

export const ISOLATION_PROVIDERS = ['dry-run', 'crowdstrike', 'microsoft-defender', 'sentinelone'] as const;
export const ACCESS_PROVIDERS = ['dry-run', 'microsoft-graph', 'okta', 'google-workspace', 'dropbox'] as const;

/** The vendor block behind each provider (dry-run needs none). */
export const PROVIDER_VENDORS = {
  crowdstrike: 'crowdstrike',
  'microsoft-defender': 'microsoftEntra',
  sentinelone: 'sentinelone',
  'microsoft-graph': 'microsoftEntra',
  okta: 'okta',
  'google-workspace': 'googleWorkspace',
  dropbox: 'dropbox',
} as const;

const userTemplate = z.string().includes('{user}', { message: 'must contain {user}' }).default('{user}');
/** How the alert's user maps to the vendor's account name, e.g. "{user}@acme.com". */
const accountMapping = z.strictObject({ userTemplate });

const isolation = z.strictObject({
  provider: z.enum(ISOLATION_PROVIDERS).default('dry-run'),
  /** How often the vendor is asked whether the device is isolated yet. */
  pollInterval: durationMs.default(5_000),
  /** Isolation not reported final within this is a failure ("requested, not verified"). */
  verifyTimeout: durationMs.default(10 * 60_000),
  /** A worker that stops heartbeating for this long is presumed dead; another resumes the polling. */
  heartbeatTimeout: durationMs.default(30_000),
  microsoftDefender: z.strictObject({ isolationType: z.enum(['Full', 'Selective']).default('Full') }).prefault({}),
});

const access = z
  .strictObject({
    /** Several may run; each is its own durable step. */
    providers: z.array(z.enum(ACCESS_PROVIDERS)).min(1).default(['dry-run']),
    microsoftGraph: accountMapping.prefault({}),
    okta: z
      .strictObject({
        userTemplate,
        /** The cloud-storage app to unassign (its Okta app ID); omitted: sessions and tokens only. */
        unassignAppId: z.string().min(1).optional(),
      })
      .prefault({}),
    googleWorkspace: accountMapping.prefault({}),
    dropbox: accountMapping.prefault({}),
  })
  .superRefine((a, ctx) => {
    if (new Set(a.providers).size !== a.providers.length) {
      ctx.addIssue({ code: 'custom', path: ['providers'], message: 'lists a provider twice' });
    }
  });

export const containmentSection = z.strictObject({
  isolation: isolation.prefault({}),
  access: access.prefault({}),
});
