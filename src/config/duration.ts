/** Durations: one format for every timeout and interval in the configuration. */
import { z } from 'zod';

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30m", "2s", "1h", "500ms" or a number of milliseconds. */
export const durationMs = z
  .union([z.number().int().positive(), z.string().regex(DURATION, 'must be a duration like 90s, 30m or 2h')])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const [, n, unit] = DURATION.exec(v) ?? [];
    return Number(n) * (UNIT_MS[unit ?? 'ms'] ?? 1);
  });

/** A duration that may be 0 (off). */
export const optionalDurationMs = z.union([z.literal(0), z.literal('0'), durationMs]).transform((v) => (v === '0' ? 0 : v));

/** A per-request HTTP timeout for a vendor: at most two minutes, 15 seconds by default. */
export const requestTimeout = durationMs.refine((ms) => ms <= 120_000, 'must be at most 2m').default(15_000);
