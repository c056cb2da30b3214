/**
 * Normalization of the values SIEMs send in many shapes: byte counts with or without units, times as ISO 8601
 * strings, epoch seconds or milliseconds (numbers or numeric strings, as Splunk's `_time` is). Each is a zod schema,
 * so a value that cannot be normalized fails with a message the route reports under the field's own path.
 */
import { z } from 'zod';

/** Decimal (SI) units for KB/MB/GB, binary (IEC) units for KiB/MiB/GiB; a bare K/M/G/T is read as SI. */
const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  p: 1e15,
  pb: 1e15,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  pib: 2 ** 50,
};

const BYTES_TEXT = /^([+-]?\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** Parses a byte count; returns the integer, or the reason it cannot be one. */
export function parseBytes(value: unknown): { ok: true; value: number } | { ok: false; message: string } {
  let amount: number;
  let unit = '';
  if (typeof value === 'number') {
    amount = value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (text.length === 0) return { ok: false, message: 'must not be empty' };
    const match = BYTES_TEXT.exec(text);
    if (!match) return { ok: false, message: `"${clip(text)}" is not a byte count (e.g. 734003200, "700MB", "1.2 GiB")` };
    amount = Number(match[1]);
    unit = (match[2] ?? '').toLowerCase();
  } else {
    return { ok: false, message: 'must be a number of bytes or a string such as "700MB"' };
  }
  const factor = BYTE_UNITS[unit];
  if (factor === undefined)
    return { ok: false, message: `has an unknown unit "${clip(unit)}" (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)` };
  if (!Number.isFinite(amount)) return { ok: false, message: 'must be a finite number of bytes' };
  if (amount < 0) return { ok: false, message: 'must not be negative' };
  if (unit === '' || unit === 'b') {
    if (!Number.isInteger(amount)) return { ok: false, message: 'must be a whole number of bytes' };
  }
  const bytes = Math.round(amount * factor);
  if (bytes > Number.MAX_SAFE_INTEGER) return { ok: false, message: 'is too large' };
  return { ok: true, value: bytes };
}

/** Epoch values at or above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const EPOCH_MS_THRESHOLD = 1e11;
const EPOCH_TEXT = /^\d{1,16}(\.\d+)?$/;
/** ISO 8601 with a zone; a space instead of the T is accepted (Splunk and Kibana both render it so). */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s?(Z|[+-]\d{2}:?\d{2})$/i;
const ISO_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/;

/** Parses a time into ISO 8601 UTC; returns the reason when it cannot be read unambiguously. */
export function parseTime(value: unknown): { ok: true; value: string } | { ok: false; message: string } {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { ok: false, message: 'must be a non-negative epoch time' };
    ms = value >= EPOCH_MS_THRESHOLD ? value : value * 1000;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (text.length === 0) return { ok: false, message: 'must not be empty' };
    if (EPOCH_TEXT.test(text)) {
      const n = Number(text);
      ms = n >= EPOCH_MS_THRESHOLD ? n : n * 1000;
    } else if (ISO_WITH_ZONE.test(text)) {
      // Normalize "2026-11-28 01:14:00 +0100" to what Date.parse reads reliably.
      const iso = text.replace(' ', 'T').replace(/\s?([+-]\d{2}):?(\d{2})$/, '$1:$2');
      ms = Date.parse(iso);
    } else if (ISO_WITHOUT_ZONE.test(text)) {
      return { ok: false, message: `"${clip(text)}" has no time zone; send UTC ("Z") or an offset` };
    } else {
      return { ok: false, message: `"${clip(text)}" is not a time (ISO 8601 with a zone, or epoch seconds or milliseconds)` };
    }
  } else {
    return { ok: false, message: 'must be an ISO 8601 time or an epoch time' };
  }
  if (!Number.isFinite(ms)) return { ok: false, message: 'is not a valid date' };
  const date = new Date(Math.round(ms));
  if (Number.isNaN(date.getTime())) return { ok: false, message: 'is not a valid date' };
  return { ok: true, value: date.toISOString() };
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** A zod schema for a byte count in any accepted shape, normalized to an integer. */
export const bytesValue = z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null) {
    ctx.addIssue({ code: 'custom', message: 'is required' });
    return z.NEVER;
  }
  const parsed = parseBytes(value);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  }
  return parsed.value;
});

/** A zod schema for a time in any accepted shape, normalized to ISO 8601 UTC. */
export const timeValue = z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null) {
    ctx.addIssue({ code: 'custom', message: 'is required' });
    return z.NEVER;
  }
  const parsed = parseTime(value);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  }
  return parsed.value;
});

/** Maps the severity words SIEMs use onto the normalized scale. */
const SEVERITY_WORDS: Record<string, 'informational' | 'low' | 'medium' | 'high' | 'critical'> = {
  informational: 'informational',
  info: 'informational',
  information: 'informational',
  low: 'low',
  medium: 'medium',
  moderate: 'medium',
  high: 'high',
  critical: 'critical',
  // Splunk ES urgency and numeric severities (1 = informational ... 5 = critical).
  '1': 'informational',
  '2': 'low',
  '3': 'medium',
  '4': 'high',
  '5': 'critical',
};

export function normalizeSeverity(value: unknown): 'informational' | 'low' | 'medium' | 'high' | 'critical' | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  return SEVERITY_WORDS[String(value).trim().toLowerCase()] ?? null;
}
