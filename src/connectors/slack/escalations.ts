/**
 * Tier 2 escalations in Slack: posted to the escalation channel with the case link, through the one Slack client
 * (SlackApprovalNotifier), and written to the log as well (the log line is the evidence when Slack is down, and it
 * is written first, so a Slack outage that keeps the activity retrying still leaves a trace at once).
 */
import type { ContainmentEscalation, EscalationNotifier } from '../../contracts/ports';
import type { SlackApprovalNotifier } from './client';

export class SlackEscalationNotifier implements EscalationNotifier {
  readonly name = 'slack';

  constructor(
    private readonly slack: Pick<SlackApprovalNotifier, 'postTier2Escalation'>,
    private readonly log: EscalationNotifier,
  ) {}

  async escalate(notice: ContainmentEscalation): Promise<{ via: string }> {
    await this.log.escalate(notice);
    await this.slack.postTier2Escalation(notice);
    return { via: this.name };
  }
}
