/**
 * The approval notifier for installations without Slack: the request goes to the log (evidence), with the CLI
 * commands an approver runs to decide it; reminders, escalation and progress are logged too.
 */
import type { Logger } from 'pino';
import type { SlackMessageRef } from '../../contracts/playbook';
import type { ApprovalNotice, ApprovalNotifier, ApprovalProgress, ApprovalRequest } from '../../contracts/ports';
import { destinationHostShown } from '../../format';

export class LogApprovalNotifier implements ApprovalNotifier {
  readonly name = 'log';
  constructor(
    private readonly logger: Logger,
    private readonly temporalUiUrl: string,
    private readonly namespace: string,
  ) {}

  /** Decisions come from the CLI only, authorised against `playbook.approvers`. */
  resolveApprovers(): Promise<null> {
    return Promise.resolve(null);
  }

  requestApproval(request: ApprovalRequest): Promise<ApprovalNotice> {
    const { alert, decision, workflowId } = request;
    this.logger.warn(
      {
        workflowId,
        requestId: request.requestId,
        digest: request.digest,
        user: alert.user,
        host: alert.host,
        destDomain: alert.destDomain,
        /** The host as parsed (punycode): what approvers must judge, not the raw field. */
        destHost: destinationHostShown(decision),
        reasons: decision.reasons,
        proposedActions: request.proposedActions,
        expiresAt: request.expiresAt,
        approvers: request.approvers.map((a) => a.id),
        runUrl: `${this.temporalUiUrl}/namespaces/${encodeURIComponent(this.namespace)}/workflows/${encodeURIComponent(workflowId)}`,
        approveWith: `npm run soar -- approve ${workflowId} --as <approver-id>`,
        denyWith: `npm run soar -- deny ${workflowId} --as <approver-id>`,
        falsePositiveWith: `npm run soar -- false-positive ${workflowId} --as <approver-id>`,
      },
      'Approval required: escalated T1567.002 case awaits a decision',
    );
    return Promise.resolve({ via: this.name, message: null });
  }

  remind(request: ApprovalRequest, _message: SlackMessageRef | null, remindersSent: number): Promise<void> {
    this.logger.warn(
      { workflowId: request.workflowId, requestId: request.requestId, remindersSent, expiresAt: request.expiresAt },
      'Reminder: approval still waiting',
    );
    return Promise.resolve();
  }

  escalate(request: ApprovalRequest): Promise<{ message: null }> {
    this.logger.error(
      { workflowId: request.workflowId, requestId: request.requestId, expiresAt: request.expiresAt },
      'Escalation: no decision within the approval window',
    );
    return Promise.resolve({ message: null });
  }

  publishProgress(progress: ApprovalProgress): Promise<void> {
    this.logger.info(
      { workflowId: progress.request.workflowId, stage: progress.stage, approval: progress.approval.status },
      'Approval progress',
    );
    return Promise.resolve();
  }
}
