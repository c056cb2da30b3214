/**
 * Slack request verification, after slackapi/bolt-js `verify-request.ts`: HMAC-SHA256 with the signing secret over
 * `v0:{timestamp}:{raw body}`, compared in constant time; timestamps more than five minutes old or ahead are
 * refused; the clock is injected so tests control time. Callers answer an opaque 401 and log the reason.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_SKEW_SECONDS = 5 * 60;

export type Verdict = { ok: true; signature: string; timestamp: number } | { ok: false; reason: string };

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

export function slackSignature(signingSecret: string, timestamp: string | number, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`, 'utf8');
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

export function verifySlackSignature(
  options: { signingSecret: string; now: () => Date },
  headers: { timestamp: string | string[] | undefined; signature: string | string[] | undefined },
  rawBody: Buffer | undefined,
): Verdict {
  const timestampHeader = single(headers.timestamp);
  const signature = single(headers.signature);
  if (timestampHeader === undefined || signature === undefined) return { ok: false, reason: 'missing signature headers' };
  if (!/^\d{1,12}$/.test(timestampHeader)) return { ok: false, reason: 'malformed timestamp' };
  const timestamp = Number(timestampHeader);
  const skew = Math.floor(options.now().getTime() / 1000) - timestamp;
  if (skew > MAX_SKEW_SECONDS) return { ok: false, reason: `timestamp ${skew}s old` };
  if (skew < -MAX_SKEW_SECONDS) return { ok: false, reason: `timestamp ${-skew}s in the future` };
  const match = /^v0=([0-9a-f]{64})$/.exec(signature);
  if (!match) return { ok: false, reason: 'malformed signature' };
  const expected = Buffer.from(slackSignature(options.signingSecret, timestampHeader, rawBody ?? Buffer.alloc(0)).slice(3), 'hex');
  const given = Buffer.from(match[1] ?? '', 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature mismatch' };
  return { ok: true, signature, timestamp };
}

/**
 * Signatures this process saw in the last five minutes: a captured request replayed to the same process inside the
 * window is refused at once. Per process only; what holds across replicas (and restarts) is the receipt in Temporal
 * (src/temporal/slack-request-receipts.ts), claimed after this check.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  constructor(private readonly maxEntries = 50_000) {}

  /** True the first time a signature is seen inside its window. */
  firstSeen(signature: string, timestamp: number, nowMs: number): boolean {
    for (const [sig, until] of this.seen) {
      if (until > nowMs) break; // insertion order ~ expiry order
      this.seen.delete(sig);
    }
    if (this.seen.has(signature)) return false;
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(signature, (timestamp + MAX_SKEW_SECONDS) * 1000 + 1000);
    return true;
  }
}
