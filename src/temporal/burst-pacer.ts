/**
 * Burst pacing: while alerts arrive, new cases start only as fast as the webhook's acknowledgements allow.
 *
 * An acknowledgement is one signal-with-start on the Temporal server (src/temporal/ingest.ts), and on a small machine it
 * waits behind whatever else the server does: measured on 2 cores at 20 alerts/s with the embedded dev server, ack p99
 * 109 to 136 ms with the cases running as they come, 56 ms with no case work at all (docs/performance.md). The case work
 * does not have to run while the alerts come: each alert is durable once acknowledged, and the case index that routes
 * it keeps it. So the case index's start of a new case (the `startCase` local activity, activities/case-start.ts) asks
 * for admission first, and admission is paced from the acknowledgements' latency; a case already running is never
 * slowed, and a join or a duplicate is not paced.
 *
 * The pace is additive increase, multiplicative decrease on case starts per second, judged four times a second from the
 * acknowledgements of the last second: their 90th percentile over `ackTarget` halves the pace (from what was really
 * started), under three quarters of it raises the pace by a tenth (at least half a start a second). Never below
 * `minStartsPerSecond`, and no start waits longer than `maxWaitMs` (under the index's workflow task timeout), so a
 * storm that never ends still starts its cases. With no alert for `quietAfter`, the burst is over and nothing is paced:
 * outside bursts a case starts at once, as before.
 *
 * Pacing only helps where there is work to put off: alerts arriving faster than their cases close. A steady stream the
 * worker keeps up with (a closed loop: each case closes before the next alert comes) has none, and pacing it only
 * slows it (the throughput bench fell to 0.59x the bare baseline with the first version, which paced on the
 * acknowledgements alone). So, given the case indexes' backlog (`watchBacklog`: the workflow tasks waiting on their
 * task queue, alerts acknowledged that no index has routed yet; read once a second while alerts come; the server answers
 * from stats it keeps for `matching.TaskQueueInfoByBuildIdTTL`, 5 s by default, half a second on the embedded dev
 * server), a burst is paced only once that backlog reaches `backlog`, and the pacing stops (while the alerts still
 * come) once no start has had to wait for `quietAfter` and the backlog is under half of `backlog` again. A backlog that
 * cannot be read counts as none (not paced). The playbook worker's open runs were tried first: at 20 alerts/s they never
 * rose by 50, the backlog was in the routing.
 *
 * It needs the acknowledgements, so it paces only the case indexes of a process that answers the webhooks too (the
 * embedded default, `soar start`); a `--worker-only` process is not paced.
 */

export interface BurstPacingOptions {
  /** The acknowledgement latency (ms, 90th percentile over the last second) the pace aims under. */
  ackTargetMs: number;
  /** New case starts a second the pace never goes below while a burst lasts. */
  minStartsPerSecond: number;
  /** No alert for this long (ms): the burst is over, new cases are not paced. */
  quietAfterMs: number;
  /**
   * The case indexes' backlog (workflow tasks waiting on their queue) at which a burst is paced; 0, or no
   * `watchBacklog`: paced on the acknowledgements alone.
   */
  backlog?: number;
  /** For tests: the clock. */
  now?: () => number;
  /** The longest a case start waits for admission (ms); then it goes whatever the pace. */
  maxWaitMs: number;
  /** For tests: no timer of its own; `tick()` is called by the test. */
  manualTicks?: boolean;
  /** Told when a burst starts being paced, and what the pacing did once the burst is over (for the log). */
  onPacing?: (event: PacingEvent) => void;
}

export type PacingEvent =
  /** `backlog`: the case indexes' backlog as last read (null: not watched, or not read). */
  | { event: 'paced'; startsPerSecond: number; ackP90Ms: number; backlog: number | null }
  | { event: 'ended'; heldStarts: number; longestWaitMs: number; burstMs: number; burstOver: boolean };

/** How often the pace is judged, and the window of acknowledgements it is judged on. */
export const TICK_MS = 250;
const WINDOW_MS = 1000;
/** How often the backlog is read while alerts come. */
export const BACKLOG_READ_MS = 1000;
/** No pace: every start goes at once. */
const UNPACED = Number.POSITIVE_INFINITY;

export interface PacerState {
  /** Whether alerts are arriving (an acknowledgement within `quietAfter`). */
  inBurst: boolean;
  /** The case indexes' backlog as last read (null: not watched, or not read). */
  backlog: number | null;
  /** New case starts a second allowed now; Infinity: not paced. */
  startsPerSecond: number;
  /** Case starts waiting for admission. */
  waiting: number;
}

export class BurstPacer {
  private readonly now: () => number;
  private acks: { at: number; ms: number }[] = [];
  private lastAckAt = Number.NEGATIVE_INFINITY;
  private rate = UNPACED;
  private tokens = 1;
  private refilledAt: number;
  /** Times of the case starts admitted in the burst's last second: the pace really used (none kept outside bursts). */
  private granted: number[] = [];
  private waiters: { go: () => void; timer: NodeJS.Timeout | null; onAbort?: () => void }[] = [];
  /** The burst being paced: since when, how many starts waited, the longest wait. */
  private pacing: { since: number; held: number; longestWaitMs: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private wake: NodeJS.Timeout | null = null;
  /** Reads the case indexes' backlog; what it read last and when it started that read. */
  private readBacklog: (() => Promise<number>) | null = null;
  private backlog: number | null = null;
  private backlogReadAt = Number.NEGATIVE_INFINITY;
  private reading = false;
  /** When a start last had to wait for the pace. */
  private lastHeldAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: BurstPacingOptions) {
    this.now = options.now ?? Date.now;
    this.refilledAt = this.now();
  }

  /** One webhook answer: its latency in ms and its HTTP status; a 5xx (a refusal for load) counts as too slow. */
  observeAnswer(ms: number, status: number): void {
    this.observeAck(ms, status >= 500);
  }

  /** One acknowledgement: its latency in ms, and whether it was a refusal for load, which counts as too slow. */
  observeAck(ms: number, overloaded = false): void {
    const at = this.now();
    this.lastAckAt = at;
    this.acks.push({ at, ms: overloaded ? Number.POSITIVE_INFINITY : ms });
    if (!this.timer && !this.options.manualTicks) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
  }

  /**
   * The case indexes' backlog: how many workflow tasks wait on their task queue (alerts acknowledged, not yet routed),
   * so that only a burst that builds a backlog is paced. A read that fails counts as no backlog.
   */
  watchBacklog(read: () => Promise<number>): void {
    this.readBacklog = read;
  }

  state(): PacerState {
    return { inBurst: this.inBurst(), backlog: this.backlog, startsPerSecond: this.rate, waiting: this.waiters.length };
  }

  /** Reads the backlog, at most once a second and one read at a time. */
  private sampleBacklog(now: number): void {
    const read = this.readBacklog;
    if (!read || this.reading || now - this.backlogReadAt < BACKLOG_READ_MS) return;
    this.reading = true;
    this.backlogReadAt = now;
    read().then(
      (n) => {
        // A read that ends after the burst does not count for the next one.
        if (this.inBurst()) this.backlog = n;
        this.reading = false;
      },
      () => {
        this.backlog = null;
        this.reading = false;
      },
    );
  }

  /** Whether the backlog is at the pacing's threshold (or not watched: paced on the acknowledgements alone). */
  private backlogBuilt(): boolean {
    const needed = this.options.backlog ?? 0;
    if (!this.readBacklog || needed === 0) return true;
    return this.backlog !== null && this.backlog >= needed;
  }

  private inBurst(): boolean {
    return this.now() - this.lastAckAt < this.options.quietAfterMs;
  }

  /** Judges the pace from the last second's acknowledgements; ends the pacing once the burst is over. */
  tick(): void {
    const now = this.now();
    this.acks = this.acks.filter((a) => now - a.at < WINDOW_MS);
    this.granted = this.granted.filter((t) => now - t < WINDOW_MS);
    if (!this.inBurst()) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.backlog = null;
      this.endPacing(now, true);
      return;
    }
    this.sampleBacklog(now);
    const needed = this.options.backlog ?? 0;
    const drained = this.readBacklog !== null && needed > 0 && (this.backlog ?? 0) < needed / 2;
    if (this.pacing && drained && this.waiters.length === 0 && now - this.lastHeldAt >= this.options.quietAfterMs) {
      // The alerts still come, but the indexes route them as fast: nothing to put off any more.
      this.endPacing(now, false);
      return;
    }
    if (this.acks.length > 0) {
      const sorted = this.acks.map((a) => a.ms).sort((a, b) => a - b);
      const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))] as number;
      const { ackTargetMs, minStartsPerSecond } = this.options;
      if (p90 > ackTargetMs && (this.pacing || this.backlogBuilt())) {
        // Halve what was really started, not the allowance: an unpaced start has an infinite one.
        const used = this.granted.length / (WINDOW_MS / 1000);
        this.setRate(Math.max(minStartsPerSecond, Math.min(this.rate, used) / 2));
        if (!this.pacing) {
          this.pacing = { since: now, held: 0, longestWaitMs: 0 };
          this.options.onPacing?.({ event: 'paced', startsPerSecond: this.rate, ackP90Ms: p90, backlog: this.backlog });
        }
      } else if (p90 < ackTargetMs * 0.75 && this.rate !== UNPACED) {
        this.setRate(this.rate + Math.max(0.5, this.rate * 0.1));
      }
    }
    this.serve();
  }

  /** Stops pacing: every waiting start goes; `burstOver`: no alert for `quietAfter` (else the backlog is gone). */
  private endPacing(now: number, burstOver: boolean): void {
    this.rate = UNPACED;
    this.serve();
    if (!this.pacing) return;
    const { since, held, longestWaitMs } = this.pacing;
    this.pacing = null;
    this.options.onPacing?.({ event: 'ended', heldStarts: held, longestWaitMs, burstMs: now - since, burstOver });
  }

  private setRate(rate: number): void {
    this.refill();
    this.rate = rate;
    this.tokens = Math.min(this.tokens, this.burstSize());
  }

  /** Starts allowed at once: a quarter second's worth, at least one. */
  private burstSize(): number {
    return Math.max(1, this.rate * (TICK_MS / 1000));
  }

  private refill(): void {
    const now = this.now();
    if (this.rate !== UNPACED) this.tokens = Math.min(this.burstSize(), this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
  }

  /** Whether a case start may go now (and takes its token when paced); outside a burst always. */
  private takeStart(): boolean {
    if (!this.inBurst()) return true;
    if (this.rate !== UNPACED) {
      this.refill();
      if (this.tokens < 1) return false;
      this.tokens -= 1;
    }
    this.granted.push(this.now());
    return true;
  }

  /**
   * Admission of one case start: at once outside a burst or when the pace allows, else once a start is due (in
   * order of asking), and after `maxWaitMs` whatever the pace. Rejects only when `signal` aborts (the activity was
   * cancelled).
   */
  admit(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.waiters.length === 0 && this.takeStart()) return Promise.resolve();
    const askedAt = this.now();
    this.lastHeldAt = askedAt;
    if (this.pacing) this.pacing.held++;
    return new Promise<void>((resolve, reject) => {
      const waiter: (typeof this.waiters)[number] = {
        go: () => {
          if (this.pacing) this.pacing.longestWaitMs = Math.max(this.pacing.longestWaitMs, this.now() - askedAt);
          if (waiter.timer) clearTimeout(waiter.timer);
          if (waiter.onAbort) signal?.removeEventListener('abort', waiter.onAbort);
          resolve();
        },
        timer: null,
      };
      if (!this.options.manualTicks) {
        // Past the longest wait the start goes: it counts as started (the pace halves from real starts).
        waiter.timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          if (this.inBurst()) this.granted.push(this.now());
          waiter.go();
        }, this.options.maxWaitMs);
        waiter.timer.unref();
      }
      if (signal) {
        waiter.onAbort = () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          if (waiter.timer) clearTimeout(waiter.timer);
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.serve();
    });
  }

  /** Admits the waiting starts that are due, in order; sets a timer for the next token while starts wait. */
  serve(): void {
    while (this.waiters.length > 0 && this.takeStart()) this.waiters.shift()?.go();
    if (this.wake || this.options.manualTicks || this.waiters.length === 0 || this.rate === UNPACED) return;
    const ms = Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000));
    this.wake = setTimeout(() => {
      this.wake = null;
      this.serve();
    }, ms);
    this.wake.unref();
  }

  /** Stops the timers and admits whatever waits (a stopping process). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.wake) clearTimeout(this.wake);
    this.timer = this.wake = null;
    for (const waiter of this.waiters.splice(0)) waiter.go();
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
