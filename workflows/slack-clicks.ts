/**
 * The Slack side of a decision, as the run's Update validator sees it: is this click on this run's current approval
 * message, and who in the approver snapshot is the Slack user who clicked? Slack's signature, team and app are
 * checked at the HTTP edge (src/http/routes/slack.ts) before the click becomes an Update; what only the run knows
 * (which message it posted, whom it snapshotted as approvers) is checked here. Deterministic: no Slack call, only
 * the state the run recorded. The identity rules themselves are channel-neutral (approvers.ts).
 */
import type { ApprovalState, SlackDecisionContext } from '../src/contracts/playbook';
import type { Claimant } from './approvers';

/** What a Slack decision carries: the Slack user ID, the digest of the message, and where the click came from. */
export interface SlackClick {
  approver: string;
  digest?: string;
  slack?: SlackDecisionContext;
}

export function slackMention(userId: string): string {
  return `<@${userId}>`;
}

/**
 * The clicker as a claimant of the identity rules. Throws (so the Update is rejected) when the click cannot be
 * trusted to refer to this request: the request was not sent to Slack, the click lacks its context or digest, it
 * names another user, or it is not on the current approval message (or its escalation).
 */
export function slackClaimant(approval: ApprovalState, click: SlackClick): Claimant {
  const slack = approval.slack;
  const ctx = click.slack;
  if (!slack) throw new Error('This approval request was not sent to Slack; a Slack click cannot decide it.');
  if (!ctx || click.digest === undefined) throw new Error('A Slack decision must carry its Slack context and digest.');
  if (ctx.userId !== click.approver) throw new Error('The Slack user does not match the approver.');
  const from = [slack.message, slack.escalationMessage].some((m) => m !== null && m.channel === ctx.channelId && m.ts === ctx.messageTs);
  if (!from) {
    // The message is visible in Slack a moment before the run has recorded its ts.
    const recording =
      (slack.message === null && approval.notifyError === null) || (approval.escalatedAt !== null && slack.escalationMessage === null);
    if (recording) throw new Error('This request is still being posted; click again in a moment.');
    throw new Error("This button is not on this run's current approval message; it authorises nothing.");
  }
  const entry = slack.approvers.find((a) => a.userId === click.approver);
  return {
    handle: slackMention(click.approver),
    showName: true,
    entry: entry ? { name: entry.name, escalationOnly: entry.via === 'escalation-group' } : null,
    howToMap: 'map them in slack.userMap',
  };
}
