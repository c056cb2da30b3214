/**
 * Whether Temporal can be expected to answer now, so a webhook can answer 503 at once instead of holding the SIEM
 * for the whole recording deadline (most senders give up after 10-15 s and then cannot tell what happened).
 *
 * Nothing is asked while calls succeed. After a call fails for want of Temporal (unreachable, refusing; or timed
 * out, and a probe then fails too: under a storm calls time out while the server still answers), the next callers
 * wait for one shared probe (`GetSystemInfo`, answered by the frontend without
 * touching persistence, so a busy server still answers it quickly): if it fails, they are told at once, without
 * sending anything, and the probe's verdict holds for `recheckMs` before a new probe is made. A probe that succeeds,
 * or any call that succeeds, ends the suspicion.
 */
import type { Client } from '@temporalio/client';

export interface AvailabilityOptions {
  /** How long the probe may take; a server that cannot answer `GetSystemInfo` in this time is not answering. */
  probeTimeoutMs?: number;
  /** How long a failed probe's verdict is reused before Temporal is probed again. */
  recheckMs?: number;
}

export class TemporalAvailability {
  private suspect = false;
  private probe: Promise<boolean> | null = null;
  private verdict: { ok: boolean; at: number } | null = null;
  private readonly probeTimeoutMs: number;
  private readonly recheckMs: number;

  constructor(
    private readonly ask: (timeoutMs: number) => Promise<boolean>,
    options: AvailabilityOptions = {},
  ) {
    this.probeTimeoutMs = options.probeTimeoutMs ?? 1_500;
    this.recheckMs = options.recheckMs ?? 1_000;
  }

  /** Probes with the client's own connection, so the verdict is about the path the alerts take. */
  static of(client: Client, options: AvailabilityOptions = {}): TemporalAvailability {
    return new TemporalAvailability(async (timeoutMs) => {
      // The abort ends the call and its retries at the timeout, whatever the connection's retry policy.
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        await client.connection.withAbortSignal(signal, () =>
          client.connection.withDeadline(Date.now() + timeoutMs, () => client.workflowService.getSystemInfo({})),
        );
        return true;
      } catch {
        return false;
      }
    }, options);
  }

  /** False when a recent call failed and Temporal still does not answer: send nothing, answer 503 now. */
  async reachable(): Promise<boolean> {
    if (!this.suspect) return true;
    return this.probeNow();
  }

  /**
   * Asks Temporal now (or reuses a verdict younger than `recheckMs`), whether or not a call has failed: for a call
   * that timed out, where a storm and a frozen server look alike until the frontend is asked. A failed probe makes
   * the next callers check before sending.
   */
  async confirm(): Promise<boolean> {
    const ok = await this.probeNow();
    if (!ok) this.suspect = true;
    return ok;
  }

  private probeNow(): Promise<boolean> {
    if (this.verdict && Date.now() - this.verdict.at < this.recheckMs) return Promise.resolve(this.verdict.ok);
    this.probe ??= this.ask(this.probeTimeoutMs).then((ok) => {
      this.verdict = { ok, at: Date.now() };
      this.probe = null;
      if (ok) this.suspect = false;
      return ok;
    });
    return this.probe;
  }

  /** A call to Temporal succeeded. */
  succeeded(): void {
    this.suspect = false;
    if (this.verdict && !this.verdict.ok) this.verdict = null;
  }

  /** A call failed for want of Temporal (see `recordingFailure`): the next callers check before sending. */
  failed(): void {
    if (!this.suspect) this.verdict = null;
    this.suspect = true;
  }

  /** Whether callers are currently checking before they send (for logs and tests). */
  get suspected(): boolean {
    return this.suspect;
  }
}
