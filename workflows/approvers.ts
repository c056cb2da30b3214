/**
 * Who may decide on a case: one set of identity rules for the approval, the release and the confirmation of a
 * containment, whatever channel the person used. Pure and deterministic: Update validators call it inside the
 * workflow (they must not do I/O), and unit tests call it directly.
 *
 * The rules, in the order they are applied (the first that fails is the reason given):
 * 1. authorised: the person is on the roster of approvers for this request (the CLI approver list of the run's
 *    policy; in Slack, the approver snapshot taken when the request was sent);
 * 2. a member of the escalation group may decide only once the request has been escalated;
 * 3. the person maps to a directory user (otherwise they cannot be compared with the subject and the manager);
 * 4. not the subject of the alert;
 * 5. not the subject's manager (when HR named one);
 * 6. the two-person rule, where it applies: the second approval comes from a different approver.
 *
 * Every name is compared in its canonical form (src/identity/canonical.ts): `CORP\jdoe`, `jdoe@corp.example` and
 * `JDoe` are the subject `jdoe`. A name that cannot be canonicalised (a look-alike mixing scripts) decides nothing.
 * In runs started before the organisation's domains were snapshotted into the policy, the subject and manager rules
 * compare account names with any domain removed: wider, so they refuse more, never less (fail closed).
 *
 * How a channel identifies a person (a Slack user ID and the message they clicked on, an ID typed at the CLI) is the
 * channel's business: it hands over a `Claimant`, and its own delivery checks stay with it (see slack-clicks.ts).
 */

import { canonicalIdentity, canonicalName, NO_ORG, type OrgIdentity } from '../src/identity/canonical';

/** One person who may decide this request, as the channel's roster lists them. */
export interface RosterEntry {
  /** The directory user name they map to, lowercased; null when it could not be resolved (they may not decide). */
  name: string | null;
  /** A member of the escalation group: may decide only once the request has been escalated. */
  escalationOnly: boolean;
}

/** Someone who asks to decide, as their channel identified them. */
export interface Claimant {
  /** How refusals name them: the ID as typed at the CLI, a Slack mention. */
  handle: string;
  /** The handle is not the directory name, so refusals about who they are add it: "<@U0JDOE001> (jdoe)". */
  showName: boolean;
  /** Their roster entry, or null when they are not on the roster. */
  entry: RosterEntry | null;
  /** How an operator maps someone who has no directory user (e.g. "map them in slack.userMap"), if the channel can. */
  howToMap?: string;
}

/** What the rules compare the claimant with. */
export interface ApproverCase {
  /** The alert's subject (a directory user name). */
  subject: string;
  /** The subject's manager, when HR named one; null when unknown or none. */
  manager: string | null;
  /** Whether the request has been escalated (lets the escalation group decide). */
  escalated: boolean;
  /** Two-person rule: directory names of the approvers already recorded on this request; empty where it does not apply. */
  approvedBy: readonly string[];
  /** The organisation's domains (the run's policy); absent in older runs: see the module comment. */
  org?: OrgIdentity;
}

/** The account part of a canonical name, for the wider comparison of older runs. */
function accountPart(name: string): string {
  const slash = name.indexOf('\\');
  if (slash >= 0) return name.slice(slash + 1);
  const at = name.lastIndexOf('@');
  return at >= 0 ? name.slice(0, at) : name;
}

/** Whether two names are the same person under the rules above; an unreadable name is nobody's (the caller decides). */
export function samePerson(a: string, b: string, org: OrgIdentity | undefined): boolean {
  const ca = canonicalName(a, org ?? NO_ORG);
  const cb = canonicalName(b, org ?? NO_ORG);
  if (ca === null || cb === null) return false;
  return org ? ca === cb : accountPart(ca) === accountPart(cb);
}

export type ApproverRule = 'authorised' | 'escalated' | 'directory-user' | 'not-subject' | 'not-manager' | 'two-person';

export type ApproverVerdict =
  | { allowed: true; name: string }
  /** `name` is the directory name when it was known before the refusal (the rules after `directory-user`). */
  | { allowed: false; name: string | null; rule: ApproverRule; reason: string };

export function checkApprover(claimant: Claimant, kase: ApproverCase): ApproverVerdict {
  const { handle, entry } = claimant;
  const refuse = (rule: ApproverRule, name: string | null, reason: string): ApproverVerdict => ({ allowed: false, name, rule, reason });
  if (entry === null) return refuse('authorised', null, `${handle} is not an authorised approver.`);
  if (entry.escalationOnly && !kase.escalated) {
    return refuse('escalated', null, `${handle} may decide only once the request has been escalated.`);
  }
  if (entry.name === null) {
    const how = claimant.howToMap ? ` (${claimant.howToMap})` : '';
    return refuse('directory-user', null, `${handle} cannot be matched to a directory user, so they may not decide${how}.`);
  }
  const canonical = canonicalIdentity(entry.name, kase.org ?? NO_ORG);
  if (!canonical.ok) {
    return refuse('directory-user', null, `${handle}'s directory name ${canonical.reason}, so they may not decide.`);
  }
  const name = canonical.name;
  const who = claimant.showName ? `${handle} (${name})` : handle;
  // A subject whose name cannot be read is compared as typed (lowercased): ingestion refuses such names, so only a
  // run started before that check can carry one.
  if (samePerson(name, kase.subject, kase.org) || name === kase.subject.trim().toLowerCase()) {
    return refuse('not-subject', name, `${who} is the subject of this alert and may not decide on it.`);
  }
  if (kase.manager !== null && samePerson(name, kase.manager, kase.org)) {
    return refuse('not-manager', name, `${who} is the manager of the alert's subject and may not decide on it.`);
  }
  if (kase.approvedBy.some((earlier) => samePerson(name, earlier, kase.org))) {
    return refuse('two-person', name, `${who} has already approved; the second approval must come from a different approver.`);
  }
  return { allowed: true, name };
}

/**
 * A person named at the CLI: their approver ID is their directory user name, compared in canonical form (so
 * `--as CORP\alice` is the listed `alice`). The configured ID is the name the rules compare.
 */
export function cliClaimant(approvers: readonly { id: string }[], approver: string, org: OrgIdentity = NO_ORG): Claimant {
  const id = canonicalName(approver, org);
  const listed = id === null ? undefined : approvers.find((a) => canonicalName(a.id, org) === id);
  return {
    handle: approver,
    // `CORP\alice` is refused as "CORP\alice (alice)"; a difference of case alone is not worth saying.
    showName: id !== null && id !== approver.trim().toLowerCase(),
    entry: listed ? { name: listed.id, escalationOnly: false } : null,
  };
}
