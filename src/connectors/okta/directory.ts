/**
 * HR authorization and identity from Okta's Users API:
 * - `GET /api/v1/users/{login}`: status and profile (department, title, manager, timezone, employment status);
 * - `GET /api/v1/users/{id}/groups`: group memberships; membership in a configured group authorizes cloud storage.
 *
 * Okta is the source because it is where identity and access decisions meet: HR systems (Workday, BambooHR, ...)
 * provision into it, so its profile carries the HR attributes, and access to cloud storage apps is granted there
 * through group assignment. Group membership (not a profile flag) is the authorization signal because it is what
 * actually grants the app, it is audited in Okta's System Log, and it needs no custom schema attribute.
 */
import { z } from 'zod';
import type { EmploymentStatus, HrFinding } from '../../contracts/playbook';
import type { HrDirectory } from '../../contracts/ports';
import { isValidTimezone } from '../../enrichment/business-hours';
import { ConnectorInvalidResponseError, ConnectorNotFoundError } from '../errors';
import { OKTA_PROVIDER, type OktaClient } from './client';

const profileValue = z.union([z.string(), z.number(), z.boolean(), z.null()]).optional();

export const oktaUserSchema = z.object({
  id: z.string().min(1),
  status: z.string().min(1),
  profile: z
    .object({
      login: z.string().min(1),
      firstName: z.string().nullish(),
      lastName: z.string().nullish(),
      displayName: z.string().nullish(),
    })
    .catchall(z.unknown()),
});

export const oktaGroupsSchema = z.array(
  z.object({
    id: z.string().min(1),
    type: z.string().optional(),
    profile: z.object({ name: z.string().min(1), description: profileValue }),
  }),
);

export type OktaUser = z.infer<typeof oktaUserSchema>;

export interface OktaDirectoryOptions {
  /** Appended to user names without an `@` (alerts often carry "jdoe", Okta logins are "jdoe@acme.com"). */
  loginSuffix?: string;
  cloudStorageGroups: string[];
  /** Profile attribute names. */
  profile: { department: string; title: string; manager: string; timezone: string; employmentStatus: string };
  /** Used when the profile has no (valid) time zone: the organisation's business-hours default. */
  defaultTimezone: string;
}

const STATUS_WORDS: Record<string, EmploymentStatus> = {
  active: 'active',
  'on-leave': 'on-leave',
  leave: 'on-leave',
  'on-notice': 'on-notice',
  notice: 'on-notice',
  terminated: 'terminated',
};

/** An HR employment-status attribute value ("On Notice", "on_notice", "terminated"), or throws naming it. */
export function parseEmploymentStatus(value: string): EmploymentStatus {
  const word = value
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');
  const status = STATUS_WORDS[word];
  if (!status) {
    throw new ConnectorInvalidResponseError(
      OKTA_PROVIDER,
      `employment status "${value}" is not one of active, on-leave, on-notice, terminated`,
    );
  }
  return status;
}

/**
 * Okta's user status combined with the HR attribute. DEPROVISIONED (deactivated) means the person left:
 * terminated, whatever the attribute says. SUSPENDED means an admin blocked sign-in: not active employment, so
 * on-leave unless HR says on-notice or terminated. Every other known status follows the HR attribute (active when
 * it is absent). An unknown status fails closed (the finding becomes unknown).
 */
export function employmentStatusOf(oktaStatus: string, attribute: string | null): EmploymentStatus {
  const fromHr = attribute === null ? null : parseEmploymentStatus(attribute);
  switch (oktaStatus) {
    case 'DEPROVISIONED':
      return 'terminated';
    case 'SUSPENDED':
      return fromHr === null || fromHr === 'active' ? 'on-leave' : fromHr;
    case 'ACTIVE':
    case 'RECOVERY':
    case 'PASSWORD_EXPIRED':
    case 'LOCKED_OUT':
    case 'PROVISIONED':
    case 'STAGED':
      return fromHr ?? 'active';
    default:
      throw new ConnectorInvalidResponseError(OKTA_PROVIDER, `unknown Okta user status "${oktaStatus}"`);
  }
}

function text(profile: Record<string, unknown>, attribute: string): string | null {
  const value = profile[attribute];
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number') return String(value);
  return null;
}

export class OktaDirectory implements HrDirectory {
  readonly name = `${OKTA_PROVIDER}:users`;

  constructor(
    private readonly client: OktaClient,
    private readonly options: OktaDirectoryOptions,
  ) {}

  /** The Okta login for an alert's user name. */
  loginFor(user: string): string {
    return user.includes('@') || !this.options.loginSuffix ? user : `${user}${this.options.loginSuffix}`;
  }

  /** A login back in the alerts' naming ("jdoe@acme.com" -> "jdoe" with loginSuffix "@acme.com"). */
  private userNameFor(login: string | null): string | null {
    const suffix = this.options.loginSuffix;
    if (login === null || !suffix || !login.toLowerCase().endsWith(suffix.toLowerCase())) return login;
    return login.slice(0, -suffix.length);
  }

  async lookupUser(user: string): Promise<HrFinding | null> {
    const login = this.loginFor(user);
    let okta: OktaUser;
    try {
      okta = await this.client.get(`get user ${login}`, `/api/v1/users/${encodeURIComponent(login)}`, oktaUserSchema);
    } catch (err) {
      if (err instanceof ConnectorNotFoundError) return null;
      throw err;
    }
    const groups = await this.client.getAll(
      `list groups of ${login}`,
      `/api/v1/users/${encodeURIComponent(okta.id)}/groups`,
      oktaGroupsSchema,
      { limit: 200 },
    );
    const profile = okta.profile as Record<string, unknown>;
    const attrs = this.options.profile;
    const groupNames = groups.map((g) => g.profile.name);
    const wanted = new Set(this.options.cloudStorageGroups.map((g) => g.toLowerCase()));
    const timezone = text(profile, attrs.timezone);
    const first = okta.profile.firstName ?? '';
    const last = okta.profile.lastName ?? '';
    return {
      user,
      displayName: okta.profile.displayName ?? (`${first} ${last}`.trim() || okta.profile.login),
      department: text(profile, attrs.department) ?? '(not set in Okta)',
      title: text(profile, attrs.title) ?? '(not set in Okta)',
      groups: groupNames,
      employmentStatus: employmentStatusOf(okta.status, text(profile, attrs.employmentStatus)),
      manager: this.userNameFor(text(profile, attrs.manager)),
      timezone: timezone !== null && isValidTimezone(timezone) ? timezone : this.options.defaultTimezone,
      cloudStorageAuthorized: groupNames.some((g) => wanted.has(g.toLowerCase())),
    };
  }
}
