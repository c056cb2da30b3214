/** CPU accounting from /proc for the benchmarks (Linux; NaN elsewhere). */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ on Linux

function procStat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU seconds of a process; with `children`, also of its exited, waited-for children (PostgreSQL's backends). */
export function cpuSeconds(pid: number, children = false): number {
  const f = procStat(pid);
  if (!f) return NaN;
  // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  const n = (i: number) => Number(f[i] ?? NaN);
  return (n(11) + n(12) + (children ? n(13) + n(14) : 0)) / TICKS_PER_S;
}

/** PostgreSQL: the postmaster (with its exited backends) plus its live backends. */
export function postgresCpuSeconds(postmasterPid: number): number {
  let total = cpuSeconds(postmasterPid, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = procStat(Number(entry));
    if (f && Number(f[1]) === postmasterPid) total += cpuSeconds(Number(entry));
  }
  return total;
}

/** The PID of the process whose command line holds every one of `parts` (the first found), or null. */
export function findProcess(...parts: string[]): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (parts.every((p) => cmdline.includes(p))) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return null;
}
