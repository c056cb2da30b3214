/** Guard rails of containment: pure, so the workflow evaluates them deterministically and tests import them. */
import { canonicalName, type OrgIdentity } from '../src/identity/canonical';

/** Exact, case-insensitive; `*` matches any run of characters (e.g. "DC-*", "*-admin"). */
export function matchesProtected(value: string, patterns: readonly string[]): string | null {
  const v = value.toLowerCase();
  for (const pattern of patterns) {
    const re = new RegExp(
      `^${pattern
        .toLowerCase()
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    if (re.test(v)) return pattern;
  }
  return null;
}

/**
 * A protected account, whatever form the pattern or the alert names it in: the canonical user against each pattern as
 * written and in canonical form (`CORP\\ceo` and `ceo@corp.example` protect `ceo`), and the SIEM's own form against
 * the patterns as written. Returns the pattern as configured. Without the organisation's domains (runs started before
 * they were snapshotted), exactly the old comparison, so those runs replay.
 */
export function matchesProtectedAccount(
  user: string,
  userAsSent: string | undefined,
  patterns: readonly string[],
  org: OrgIdentity | undefined,
): string | null {
  const plain = matchesProtected(user, patterns);
  if (plain !== null || org === undefined) return plain;
  for (const pattern of patterns) {
    if (matchesProtected(user, [canonicalName(pattern, org) ?? pattern]) !== null) return pattern;
  }
  return userAsSent === undefined ? null : matchesProtected(userAsSent, patterns);
}
