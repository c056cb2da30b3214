/**
 * The Slack replay guard shared by every HTTP replica: a signed Slack request is acted on once per deployment, not
 * once per process. Slack signs `v0:{timestamp}:{body}`, so the signature names one request; a captured request can
 * be replayed with a valid signature for as long as its timestamp is inside the five-minute window either way.
 *
 * The first replica to see a signature starts a receipt workflow whose ID is the signature's hash, with Temporal's
 * ID rules doing the deciding: conflict policy FAIL (a second start while it is open is refused) and reuse policy
 * REJECT_DUPLICATE (a second start after it closed is refused too, for the namespace's retention). The receipt is
 * started with a start delay as long as the window, like the Standard Webhooks receipts (src/temporal/webhook-receipts.ts),
 * and reuses their workflow (`webhookReceipt`, which does nothing): the ID stays taken without a workflow task until
 * the window has passed, then one task closes it. Two replicas that get the same request at the same moment race
 * for one ID; Temporal lets exactly one start.
 *
 * Fail closed: when Temporal does not answer within the deadline (or answers anything but "started" or "already
 * there"), the request is not known to be the first, so it is refused; the clicker clicks again (a new click is a new
 * signed request).
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { webhookReceipt } from '../../workflows';
import { MAX_SKEW_SECONDS } from '../http/slack-verify';

/** A signature can come back with a valid timestamp for five minutes either way of our clock. */
export const SLACK_RECEIPT_WINDOW_MS = 2 * MAX_SKEW_SECONDS * 1000;
/** Slack wants its answer within 3 s: the guard must decide well before that. */
const RECEIPT_DEADLINE_MS = 2_000;

/** The receipt's workflow ID: a hash of the signature (the signature itself is a MAC; it is not written anywhere). */
export function slackReceiptWorkflowId(signature: string): string {
  return `t1567-002-slack-request-${createHash('sha256').update(signature, 'utf8').digest('hex').slice(0, 40)}`;
}

export type SlackReceiptVerdict = 'first' | 'replay';

/** Thrown when Temporal could not say whether a request was seen: the caller refuses it (fail closed). */
export class SlackReceiptUnavailableError extends Error {
  constructor(cause: unknown) {
    super('Temporal did not confirm that this Slack request is not a replay', { cause });
    this.name = 'SlackReceiptUnavailableError';
  }
}

export interface SlackRequestGuard {
  /** 'first' exactly once per signature across every replica; 'replay' after; throws SlackReceiptUnavailableError. */
  claim(signature: string, timestamp: number): Promise<SlackReceiptVerdict>;
}

export class SlackRequestReceipts implements SlackRequestGuard {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async claim(signature: string, timestamp: number): Promise<SlackReceiptVerdict> {
    const workflowId = slackReceiptWorkflowId(signature);
    try {
      await this.client.connection.withDeadline(Date.now() + RECEIPT_DEADLINE_MS, () =>
        this.client.workflow.start(webhookReceipt, {
          workflowId,
          taskQueue: this.taskQueue,
          args: [],
          memo: { kind: 'slack-request', slackTimestamp: timestamp },
          startDelay: SLACK_RECEIPT_WINDOW_MS,
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          staticSummary: 'Slack request receipt (replay guard)',
        }),
      );
      return 'first';
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return 'replay';
      throw new SlackReceiptUnavailableError(err);
    }
  }
}
