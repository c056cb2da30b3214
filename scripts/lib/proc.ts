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

/**
 * CPU seconds of each thread of a process, by thread ID, with the thread's name (`main` for the main thread); empty
 * when unreadable (not Linux, or the process is gone).
 */
export function threadCpuSeconds(pid: number): Map<number, { name: string; cpu: number }> {
  const threads = new Map<number, { name: string; cpu: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), {
        name: Number(tid) === pid ? 'main' : name,
        cpu: (Number(f[11] ?? NaN) + Number(f[12] ?? NaN)) / TICKS_PER_S,
      });
    } catch {
      // Ended meanwhile.
    }
  }
  return threads;
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
