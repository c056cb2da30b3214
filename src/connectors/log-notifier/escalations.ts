/**
 * Tier 2 escalations for installations without Slack: a guard rail refused a containment, or a containment lease ran
 * out unconfirmed. Written to the log (evidence) with the commands that answer it.
 */
import type { Logger } from 'pino';
import type { ContainmentEscalation, EscalationNotifier } from '../../contracts/ports';

export class LogEscalationNotifier implements EscalationNotifier {
  readonly name = 'log';
  constructor(private readonly logger: Logger) {}

  escalate(notice: ContainmentEscalation): Promise<{ via: string }> {
    this.logger.warn(
      {
        workflowId: notice.workflowId,
        user: notice.alert.user,
        host: notice.alert.host,
        reason: notice.reason,
        containment: notice.containment.map((c) => `${c.action} ${c.target} via ${c.provider}: ${c.status}`),
        confirmWith: `npm run soar -- confirm ${notice.workflowId} --as <approver-id>`,
        releaseWith: `npm run soar -- release ${notice.workflowId} --as <approver-id>`,
      },
      `Tier 2 escalation: ${notice.reason}`,
    );
    return Promise.resolve({ via: this.name });
  }
}
