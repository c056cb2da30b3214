/**
 * Follows the product's audit file, so that the throughput scenario learns that a run is closing without asking
 * the server. A webhook answered "recorded, case pending" names no run yet: asking Temporal for it every 200 ms until
 * it exists cost about six calls per run, load the bare side never carries. The run's `run-closed` record is the
 * product's own word that it is closing; the scenario then awaits the run's result once, as it does for a bare run.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

export class AuditWatch {
  private offset = 0;
  private partial = '';
  private readonly closed = new Set<string>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    intervalMs = 25,
  ) {
    this.timer = setInterval(() => this.read(), intervalMs);
    this.timer.unref();
  }

  /** Resolves when the run `workflowId` has written its `run-closed` record; false when `deadline` passes first. */
  closing(workflowId: string, deadline: number): Promise<boolean> {
    this.read();
    if (this.closed.has(workflowId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timeout = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      const list = this.waiters.get(workflowId) ?? [];
      list.push(() => {
        clearTimeout(timeout);
        resolve(true);
      });
      this.waiters.set(workflowId, list);
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private read(): void {
    if (!existsSync(this.file)) return;
    const size = statSync(this.file).size;
    if (size <= this.offset) return;
    const fd = openSync(this.file, 'r');
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset += n;
      const lines = (this.partial + buffer.subarray(0, n).toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.take(line);
    } finally {
      closeSync(fd);
    }
  }

  private take(line: string): void {
    if (!line.includes('"run-closed"')) return;
    let record: { type?: unknown; workflowId?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      return;
    }
    if (record.type !== 'run-closed' || typeof record.workflowId !== 'string') return;
    this.closed.add(record.workflowId);
    for (const wake of this.waiters.get(record.workflowId) ?? []) wake();
    this.waiters.delete(record.workflowId);
  }
}
