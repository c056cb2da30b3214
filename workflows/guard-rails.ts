/** Guard rails of containment: pure, so the workflow evaluates them deterministically and tests import them. */

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
