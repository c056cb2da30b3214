/**
 * Tier 2 escalations in Slack: posted to the escalation channel with the case link, through the one Slack client
 * (SlackApprovalNotifier), and written to the log as well. The log line comes first, so the escalation is on record
 * whatever Slack does. A transient Slack fault (5xx, `service_unavailable`, a rate limit) is thrown, and the activity
 * retries the post; a refusal that no retry can fix (a revoked token, the bot not in the channel) is logged as an
 * error and the escalation stands on the log alone (`via: log`), rather than failing the run.
 */
import type { ContainmentEscalation, EscalationNotifier } from '../../contracts/ports';
import type { Logger } from '../../logger';
import { ConnectorError } from '../errors';
import type { SlackApprovalNotifier } from './client';

export class SlackEscalationNotifier implements EscalationNotifier {
  readonly name = 'slack';

  constructor(
    private readonly slack: Pick<SlackApprovalNotifier, 'postTier2Escalation'>,
    private readonly log: EscalationNotifier,
    private readonly logger: Logger,
  ) {}

  async escalate(notice: ContainmentEscalation): Promise<{ via: string }> {
    await this.log.escalate(notice);
    try {
      await this.slack.postTier2Escalation(notice);
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.kind === 'unavailable' || err.kind === 'rate-limited') throw err;
      this.logger.error(
        { workflowId: notice.workflowId, err: err.message },
        'Tier 2 escalation not posted to Slack (refused; not retried): it is in the log only',
      );
      return { via: this.log.name };
    }
    return { via: this.name };
  }
}
