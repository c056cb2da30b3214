/**
 * The approval notifier for installations without Slack: the request goes to the log (evidence), with the CLI
 * commands an approver runs to decide it.
 */
import type { Logger } from 'pino';
import type { ApprovalNotifier, ApprovalRequest } from '../../contracts/ports';
import { destinationHostShown } from '../../../workflows/decide';

export class LogApprovalNotifier implements ApprovalNotifier {
  readonly name = 'log';
  constructor(
    private readonly logger: Logger,
    private readonly temporalUiUrl: string,
    private readonly namespace: string,
  ) {}

  requestApproval(request: ApprovalRequest): Promise<{ via: string }> {
    const { alert, decision, workflowId } = request;
    this.logger.warn(
      {
        workflowId,
        requestId: request.requestId,
        user: alert.user,
        host: alert.host,
        destDomain: alert.destDomain,
        /** The host as parsed (punycode): what approvers must judge, not the raw field. */
        destHost: destinationHostShown(decision),
        reasons: decision.reasons,
        expiresAt: request.expiresAt,
        approvers: request.approvers.map((a) => a.id),
        runUrl: `${this.temporalUiUrl}/namespaces/${encodeURIComponent(this.namespace)}/workflows/${encodeURIComponent(workflowId)}`,
        approveWith: `npm run soar -- approve ${workflowId} --as <approver-id>`,
        denyWith: `npm run soar -- deny ${workflowId} --as <approver-id>`,
      },
      'Approval required: escalated T1567.002 case awaits a decision',
    );
    return Promise.resolve({ via: this.name });
  }
}
