/**
 * Standard Webhooks idempotency: the `webhook-id` is the sender's idempotency key, so a delivery whose ID was already
 * acknowledged for that source is a replay, whatever its body says. A replay of the same body goes through as usual
 * (its alerts come back as duplicates from their case index); a replay with a different body is answered as a
 * duplicate without recording anything (a second alert under the same idempotency key would be a second run).
 *
 * Remembered for `RECEIPT_WINDOW_MS`: a signed request is accepted only within five minutes of its timestamp either
 * way, so an ID can come back with a valid signature for at most ten minutes of our clock. Two places:
 * - this process: a bounded map (the newest `MAX_REMEMBERED` IDs), asked first;
 * - Temporal, so a restart forgets nothing: a `webhookReceipt` workflow per (source, ID), started once the first
 *   delivery is acknowledged, with the body's SHA-256 in its memo and a start delay of the window, so the ID stays
 *   taken that long at the cost of one workflow task at its end. A process that has not seen the ID asks Temporal.
 * A receipt is written only for deliveries answered 200/202 (every alert recorded): a delivery that was refused or
 * only partly recorded must be retried, and its retry must not be mistaken for a replay.
 */
import { createHash } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { webhookReceipt } from '../../workflows';
import type { IngestSource } from '../ingest/config';

/** Five minutes of signature tolerance either way. */
export const RECEIPT_WINDOW_MS = 10 * 60_000;
/** IDs kept in memory per process; older ones are still found in Temporal. */
export const MAX_REMEMBERED = 10_000;
/** How long asking or writing a receipt may take. */
const RECEIPT_DEADLINE_MS = 2_000;

export interface Receipt {
  bodySha256: string;
  /** The case the first delivery went to, when it named one (single-alert routes). */
  workflowId?: string;
}

export function bodySha256(body: Buffer | undefined): string {
  return createHash('sha256')
    .update(body ?? Buffer.alloc(0))
    .digest('hex');
}

/** The receipt's workflow ID: the webhook ID is the sender's string, so it is hashed (any length, any characters). */
export function receiptWorkflowId(source: IngestSource, webhookId: string): string {
  const hash = createHash('sha256').update(`${source}\n${webhookId}`, 'utf8').digest('hex').slice(0, 40);
  return `t1567-002-webhook-${source}-${hash}`;
}

export class WebhookReceipts {
  private readonly recent = new Map<string, Receipt & { at: number }>();
  /** Deliveries of one ID are handled one at a time in this process, so a concurrent replay sees the first's receipt. */
  private readonly busy = new Map<string, Promise<void>>();

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `fn` once every earlier delivery of the same ID in this process has been answered. */
  async serialized<T>(source: IngestSource, webhookId: string, fn: () => Promise<T>): Promise<T> {
    const key = receiptWorkflowId(source, webhookId);
    const result = (this.busy.get(key) ?? Promise.resolve()).then(fn);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.busy.set(key, settled);
    try {
      return await result;
    } finally {
      if (this.busy.get(key) === settled) this.busy.delete(key);
    }
  }

  /** The receipt of an earlier delivery with this ID, if one was acknowledged within the window. */
  async find(source: IngestSource, webhookId: string): Promise<Receipt | null> {
    const workflowId = receiptWorkflowId(source, webhookId);
    const known = this.recent.get(workflowId);
    if (known && this.now() - known.at < RECEIPT_WINDOW_MS) return known;
    if (known) this.recent.delete(workflowId);
    try {
      const description = await this.client.connection.withDeadline(Date.now() + RECEIPT_DEADLINE_MS, () =>
        this.client.workflow.getHandle(workflowId).describe(),
      );
      // A receipt that has run is past its window: the signature of a replay that old is refused anyway.
      if (description.status.name !== 'RUNNING') return null;
      const memo = description.memo ?? {};
      if (typeof memo.bodySha256 !== 'string') return null;
      const receipt: Receipt = {
        bodySha256: memo.bodySha256,
        ...(typeof memo.workflowId === 'string' ? { workflowId: memo.workflowId } : {}),
      };
      this.remember(workflowId, receipt, description.startTime.getTime());
      return receipt;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /** Records that a delivery with this ID was acknowledged: here at once, and in Temporal. */
  async record(source: IngestSource, webhookId: string, receipt: Receipt): Promise<void> {
    const workflowId = receiptWorkflowId(source, webhookId);
    this.remember(workflowId, receipt, this.now());
    await this.client.connection.withDeadline(Date.now() + RECEIPT_DEADLINE_MS, () =>
      this.client.workflow.start(webhookReceipt, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [],
        memo: { ...receipt },
        startDelay: RECEIPT_WINDOW_MS,
        // Another process acknowledged the same ID at the same moment: its receipt stands.
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `Standard Webhooks receipt for a ${source} delivery`,
      }),
    );
  }

  private remember(workflowId: string, receipt: Receipt, at: number): void {
    this.recent.delete(workflowId);
    this.recent.set(workflowId, { ...receipt, at });
    // Oldest first: a Map iterates in insertion order.
    for (const oldest of this.recent.keys()) {
      if (this.recent.size <= MAX_REMEMBERED) break;
      this.recent.delete(oldest);
    }
  }
}
