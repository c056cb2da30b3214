/**
 * A Standard Webhooks delivery's receipt: the workflow's ID names the source and the `webhook-id`, its memo holds the
 * SHA-256 of the first body received under that ID (src/temporal/webhook-receipts.ts). The same workflow is the
 * receipt of a Slack request (src/temporal/slack-request-receipts.ts): its ID names the request's signature. It is started with a start delay
 * as long as the window in which a signed replay can arrive, so it is open (the ID is taken) for that long without a
 * single workflow task, then runs once and ends. Nothing to decide here; the workflow exists for its ID and memo.
 */
export async function webhookReceipt(): Promise<void> {
  // Intentionally empty: see above.
}
