/** Business hours evaluated in the user's own time zone, with the organisation's days, hours and holidays. */
import type { BusinessHoursFinding } from '../contracts/playbook';
import type { BusinessHoursPolicy } from '../contracts/ports';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

interface LocalParts {
  year: string;
  month: string;
  day: string;
  hour: number;
  minute: number;
  second: number;
  isoWeekday: number;
}

/**
 * One formatter per time zone, made once: building an Intl.DateTimeFormat costs far more than using it, and every
 * business-hours step, local day and directory check asks. Bounded (there are some 600 IANA names, plus aliases).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 1000;

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let fmt = formatters.get(timezone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'long',
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timezone, fmt);
  }
  return fmt;
}

/** The wall-clock parts of `instant` in `timezone`. Throws RangeError for an unknown IANA time zone. */
export function localParts(instant: Date, timezone: string): LocalParts {
  const fmt = formatterFor(timezone);
  const parts = Object.fromEntries(fmt.formatToParts(instant).map((p) => [p.type, p.value]));
  return {
    year: parts.year ?? '',
    month: parts.month ?? '',
    day: parts.day ?? '',
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    isoWeekday: WEEKDAYS.indexOf(parts.weekday ?? '') + 1,
  };
}

function offsetText(instant: Date, p: LocalParts): string {
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), p.hour, p.minute, p.second);
  const minutes = Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60000);
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const toMinutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

export function isValidTimezone(timezone: string): boolean {
  try {
    formatterFor(timezone);
    return true;
  } catch {
    return false;
  }
}

export function evaluateBusinessHours(eventTime: string, userTimezone: string | null, policy: BusinessHoursPolicy): BusinessHoursFinding {
  const timezone = userTimezone ?? policy.defaultTimezone;
  const instant = new Date(eventTime);
  const p = localParts(instant, timezone);
  const pad = (n: number) => String(n).padStart(2, '0');
  const localDate = `${p.year}-${p.month}-${p.day}`;
  const localTime = `${localDate}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${offsetText(instant, p)}`;
  const weekday = WEEKDAYS[p.isoWeekday - 1] ?? 'unknown';
  const minutes = p.hour * 60 + p.minute;
  const holiday = policy.holidays.find((h) => h.date === localDate);
  let within = false;
  let reason: string;
  if (holiday) reason = `holiday: ${holiday.name}`;
  else if (!policy.days.includes(p.isoWeekday)) reason = weekday;
  else if (minutes < toMinutes(policy.start)) reason = `before ${policy.start}`;
  else if (minutes >= toMinutes(policy.end)) reason = `after ${policy.end}`;
  else {
    within = true;
    reason = `${weekday} ${policy.start}-${policy.end}`;
  }
  return {
    timezone,
    timezoneSource: userTimezone ? 'hr' : 'organisation-default',
    localTime,
    weekday,
    withinBusinessHours: within,
    reason,
  };
}
