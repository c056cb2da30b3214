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
 * How a channel identifies a person (a Slack user ID and the message they clicked on, an ID typed at the CLI) is the
 * channel's business: it hands over a `Claimant`, and its own delivery checks stay with it (see slack-clicks.ts).
 */

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
  const name = entry.name.toLowerCase();
  const who = claimant.showName ? `${handle} (${name})` : handle;
  if (name === kase.subject.toLowerCase()) {
    return refuse('not-subject', name, `${who} is the subject of this alert and may not decide on it.`);
  }
  if (kase.manager !== null && kase.manager.toLowerCase() === name) {
    return refuse('not-manager', name, `${who} is the manager of the alert's subject and may not decide on it.`);
  }
  if (kase.approvedBy.includes(name)) {
    return refuse('two-person', name, `${who} has already approved; the second approval must come from a different approver.`);
  }
  return { allowed: true, name };
}

/** A person named at the CLI: their approver ID is their directory user name, compared without case. */
export function cliClaimant(approvers: readonly { id: string }[], approver: string): Claimant {
  const id = approver.toLowerCase();
  const listed = approvers.some((a) => a.id.toLowerCase() === id);
  return { handle: approver, showName: false, entry: listed ? { name: id, escalationOnly: false } : null };
}
