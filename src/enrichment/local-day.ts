/**
 * Calendar days in a user's time zone, as UTC instants: the one day boundary the volume rule uses for the baseline's
 * 30 days and for "the event's day so far" (an evening upload in New York belongs to that New York day, although it
 * is the next UTC day).
 */
import { localParts } from './business-hours';

export interface LocalDay {
  /** IANA time zone. */
  timezone: string;
  /** The local calendar date, YYYY-MM-DD. */
  date: string;
  /** Local midnight that starts the day, and the one that ends it, as UTC ISO instants. */
  start: string;
  end: string;
}

const DAY_MS = 86_400_000;

/** Minutes the zone is ahead of UTC at `instant`. Throws RangeError for an unknown IANA time zone. */
function offsetMinutes(instant: number, timezone: string): number {
  const p = localParts(new Date(instant), timezone);
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60_000);
}

/** The UTC instant of local midnight starting the calendar date given as days since the epoch. */
function localMidnight(epochDay: number, timezone: string): number {
  const wall = epochDay * DAY_MS;
  // Two passes: the offset at a first guess, then at the instant it gives (right across a DST change).
  const first = wall - offsetMinutes(wall, timezone) * 60_000;
  return wall - offsetMinutes(first, timezone) * 60_000;
}

/** The local calendar date of an instant, as days since the epoch. */
function localEpochDay(instant: number, timezone: string): number {
  return Math.floor((instant + offsetMinutes(instant, timezone) * 60_000) / DAY_MS);
}

/**
 * The local day `instant` falls in, and the `daysBefore` whole local days before it (oldest first, as UTC instants
 * of their midnights). Throws RangeError for an unknown time zone or an invalid instant.
 */
export function localDayOf(instant: Date, timezone: string): LocalDay {
  const t = instant.getTime();
  if (Number.isNaN(t)) throw new RangeError('invalid time');
  const day = localEpochDay(t, timezone);
  return {
    timezone,
    date: new Date(day * DAY_MS).toISOString().slice(0, 10),
    start: new Date(localMidnight(day, timezone)).toISOString(),
    end: new Date(localMidnight(day + 1, timezone)).toISOString(),
  };
}

/** Local midnights of the `days` whole local days before the day `instant` falls in, oldest first. */
export function localDaysBefore(instant: Date, timezone: string, days: number): number[] {
  const day = localEpochDay(instant.getTime(), timezone);
  return Array.from({ length: days }, (_, i) => localMidnight(day - days + i, timezone));
}
