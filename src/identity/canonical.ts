/**
 * One canonical identity per person. SIEMs, HR systems and chat tools name the same person in many forms: `jdoe`,
 * `JDoe`, `jdoe@corp.example` (a UPN or e-mail, as Entra ID, Okta and most proxies log it), `CORP\jdoe` (a down-level
 * logon name, as Windows and many Splunk sources log it), `corp.example\jdoe`, with stray whitespace or Unicode
 * compatibility forms (full-width letters). Every place that compares or looks up a person uses the form this module
 * returns, so "the subject may not decide" holds whatever form the SIEM used.
 *
 * The rules:
 * - text that is not well-formed (a lone UTF-16 surrogate), or holds control or invisible format characters, is
 *   refused: it is either broken or crafted, and a name is never guessed;
 * - NFKC, then lower case, then surrounding whitespace removed;
 * - a name that mixes scripts (Latin `jdoe` with a Cyrillic `о`) is refused rather than guessed at: it is a
 *   look-alike of another name, never the same person and never a new one;
 * - `user@domain` and `DOMAIN\user` become `user` when the domain is one of the organisation's (its DNS domains and
 *   NetBIOS names are configuration, `identity.domains` and `identity.netbiosNames`); an account of any other domain
 *   is a different person and keeps its qualified form (`jdoe@partner.example`, `partner\jdoe`), never merged.
 *
 * Pure and deterministic, no Node imports: workflows import it (the approver rules canonicalise every name they
 * compare, with the organisation snapshotted into the run's policy).
 */

/** Which domains and NetBIOS names belong to the organisation (case-insensitive). */
export interface OrgIdentity {
  domains: readonly string[];
  netbiosNames: readonly string[];
}

/** No domain is the organisation's: only case, whitespace and Unicode forms are folded. */
export const NO_ORG: OrgIdentity = { domains: [], netbiosNames: [] };

export type IdentityForm = 'plain' | 'upn' | 'down-level';

export type CanonicalIdentity =
  | {
      ok: true;
      /** The canonical name: compared, looked up, used as the case key and the containment target. */
      name: string;
      /** How it was written: `upn` and `down-level` of the organisation's domains are folded to the plain name. */
      form: IdentityForm;
      /** Whether the account belongs to another domain (kept qualified: a different person). */
      foreign: boolean;
    }
  | { ok: false; reason: string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL = /\p{Cc}/u;
/** Invisible format characters (zero-width space and joiners, bidi overrides, BOM, soft hyphen). */
const FORMAT = /\p{Cf}/u;

function codePoint(text: string, re: RegExp): string {
  const m = re.exec(text);
  const cp = m?.[0].codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Why a text may not be used as an identifier (a lone surrogate, a control or an invisible character), or null.
 * Used for every identifier field of an alert, not only the user.
 */
export function identifierTextProblem(text: string): string | null {
  if (LONE_SURROGATE.test(text)) return `is not valid Unicode (a lone surrogate ${codePoint(text, LONE_SURROGATE)})`;
  if (CONTROL.test(text)) return `contains a control character (${codePoint(text, CONTROL)})`;
  if (FORMAT.test(text)) return `contains an invisible formatting character (${codePoint(text, FORMAT)})`;
  return null;
}

/** Scripts that count as one for the mixed-script check (Japanese writes Han, Hiragana and Katakana together). */
const SCRIPTS: [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Georgian', /\p{Script=Georgian}/u],
  ['Hebrew', /\p{Script=Hebrew}/u],
  ['Arabic', /\p{Script=Arabic}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
  ['Han/Kana', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['Hangul', /\p{Script=Hangul}/u],
  ['Thai', /\p{Script=Thai}/u],
  ['Devanagari', /\p{Script=Devanagari}/u],
];

/** The scripts of the letters in a text (digits, punctuation and combining marks belong to none). */
function scriptsOf(text: string): string[] {
  const found = new Set<string>();
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    const script = SCRIPTS.find(([, re]) => re.test(ch));
    found.add(script ? script[0] : 'other');
  }
  return [...found];
}

function fold(text: string): string {
  // NFKC again after lower-casing: lower-casing can leave a non-normalised sequence (e.g. U+0130 becomes i + U+0307).
  return text.normalize('NFKC').toLowerCase().normalize('NFKC').trim();
}

const stripDot = (domain: string) => domain.replace(/\.$/, '');

/** Whether a (folded) domain or NetBIOS name is the organisation's. */
function isOrgDomain(domain: string, org: OrgIdentity): boolean {
  const d = stripDot(domain);
  return org.domains.some((o) => stripDot(fold(o)) === d) || org.netbiosNames.some((n) => fold(n) === d);
}

/**
 * The canonical form of a person's account name, or why it cannot have one. See the module comment for the rules.
 */
export function canonicalIdentity(raw: string, org: OrgIdentity = NO_ORG): CanonicalIdentity {
  // Whitespace around the name (a tab, a newline) is trimmed, not refused; inside the name it is a control character.
  const problem = identifierTextProblem(raw.trim());
  if (problem) return { ok: false, reason: problem };
  const text = fold(raw);
  if (text.length === 0) return { ok: false, reason: 'must not be empty' };
  // NFKC may produce characters the raw text did not hold (it never produces controls, but check what is compared).
  const after = identifierTextProblem(text);
  if (after) return { ok: false, reason: after };

  let form: IdentityForm = 'plain';
  let account = text;
  let domain: string | null = null;
  const slash = text.indexOf('\\');
  if (slash >= 0) {
    if (text.indexOf('\\', slash + 1) >= 0) return { ok: false, reason: 'has more than one backslash (expected DOMAIN\\user)' };
    form = 'down-level';
    domain = text.slice(0, slash).trim();
    account = text.slice(slash + 1).trim();
    if (account.includes('@')) return { ok: false, reason: 'mixes DOMAIN\\user and user@domain forms' };
  } else {
    const at = text.lastIndexOf('@');
    if (at >= 0) {
      form = 'upn';
      account = text.slice(0, at).trim();
      domain = text.slice(at + 1).trim();
    }
  }
  if (account.length === 0) return { ok: false, reason: 'has no account name' };
  if (domain !== null && domain.length === 0) return { ok: false, reason: 'has an empty domain' };
  for (const part of domain === null ? [account] : [account, domain]) {
    const scripts = scriptsOf(part);
    if (scripts.length > 1) {
      return {
        ok: false,
        reason: `mixes scripts (${scripts.join(' and ')}); a look-alike name is refused rather than guessed`,
      };
    }
  }
  if (domain === null) return { ok: true, name: account, form, foreign: false };
  if (isOrgDomain(domain, org)) return { ok: true, name: account, form, foreign: false };
  const name = form === 'upn' ? `${account}@${stripDot(domain)}` : `${stripDot(domain)}\\${account}`;
  return { ok: true, name, form, foreign: true };
}

/** The canonical name, or null when the text cannot name anyone (then the person is unknown: fail closed). */
export function canonicalName(raw: string | null | undefined, org: OrgIdentity = NO_ORG): string | null {
  if (raw === null || raw === undefined) return null;
  const c = canonicalIdentity(raw, org);
  return c.ok ? c.name : null;
}
