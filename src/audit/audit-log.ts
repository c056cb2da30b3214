/**
 * The audit trail: an append-only JSON Lines file in which every record carries the SHA-256 hash of the record
 * before it, so an edited, inserted, reordered or deleted record breaks the chain (`npm run soar -- audit verify`).
 *
 * Concurrency. Within a process, appends are serialized by a promise queue. Across processes on one host (several
 * workers sharing a data folder), each append holds an exclusive lock file (`<file>.lock`, created with O_EXCL) and
 * first reads whatever other processes appended since, so the chain stays linear. Workers on different hosts must
 * not share one file over a network filesystem: give each host its own file (its own chain) and forward to the SIEM.
 *
 * Idempotency. Activities are retried, so every event carries a key unique to the run and the event; an event whose
 * key is already in the file is not appended again.
 */
import { createHash } from 'node:crypto';
import { open, mkdir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '../canonical-json';

export const GENESIS_HASH = '0'.repeat(64);

export type AuditEventType = 'decision' | 'approval' | 'containment' | 'release' | 'run-closed';

/** What the playbook reports; the log adds the chain fields. */
export interface AuditEvent {
  type: AuditEventType;
  /** Unique per run and event, e.g. `<workflowId>/<runId>/decision`: a retried append is not written twice. */
  eventKey: string;
  workflowId: string;
  runId: string;
  /** Who decided or acted: `playbook` for automation, the approver's ID for a human decision. */
  actor: string;
  /** When it happened (workflow time). */
  at: string;
  data: Record<string, unknown>;
}

export interface AuditRecord extends AuditEvent {
  /** 1 for the first record in the file, then consecutive. */
  seq: number;
  /** When it was written. */
  recordedAt: string;
  /** The previous record's `hash`; 64 zeros for the first. */
  prevHash: string;
  /** SHA-256 (hex) of the canonical JSON of this record without `hash`. */
  hash: string;
}

export function hashRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const rest: Record<string, unknown> = { ...record };
  delete rest.hash;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 15_000;

export class FileAuditLog {
  readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();
  /** How far this process has read the file, and what it learned there. */
  private offset = 0;
  private lastSeq = 0;
  private lastHash = GENESIS_HASH;
  private readonly keys = new Set<string>();
  private partial = '';

  constructor(
    file: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.file = path.resolve(file);
  }

  /** Appends the event unless its key is already recorded. Resolves once the line is on disk. */
  append(event: AuditEvent): Promise<{ record: AuditRecord | null; appended: boolean }> {
    const run = this.queue.then(() => this.withFileLock(() => this.appendLocked(event)));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async appendLocked(event: AuditEvent): Promise<{ record: AuditRecord | null; appended: boolean }> {
    await this.catchUp();
    if (this.keys.has(event.eventKey)) return { record: null, appended: false };
    const unhashed: Omit<AuditRecord, 'hash'> = {
      ...event,
      seq: this.lastSeq + 1,
      recordedAt: this.now().toISOString(),
      prevHash: this.lastHash,
    };
    const record: AuditRecord = { ...unhashed, hash: hashRecord(unhashed) };
    const line = `${JSON.stringify(record)}\n`;
    const handle = await open(this.file, 'a', 0o600);
    try {
      await handle.write(line);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.offset += Buffer.byteLength(line);
    this.lastSeq = record.seq;
    this.lastHash = record.hash;
    this.keys.add(record.eventKey);
    return { record, appended: true };
  }

  /** Reads what was appended since this process last looked (by itself or by other processes). */
  private async catchUp(): Promise<void> {
    let size: number;
    try {
      size = (await stat(this.file)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (size < this.offset) throw new Error(`The audit file ${this.file} shrank: it was truncated or replaced. Refusing to append.`);
    if (size === this.offset) return;
    const handle = await open(this.file, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      await handle.read(buf, 0, buf.length, this.offset);
      this.offset = size;
      const text = this.partial + buf.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        const record = JSON.parse(line) as AuditRecord;
        this.lastSeq = record.seq;
        this.lastHash = record.hash;
        this.keys.add(record.eventKey);
      }
    } finally {
      await handle.close();
    }
    if (this.partial) throw new Error(`The audit file ${this.file} ends in a partial line; run \`audit verify\` and repair it.`);
  }

  private async withFileLock<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const lock = `${this.file}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      try {
        const handle = await open(lock, 'wx', 0o600);
        await handle.write(`${process.pid}\n`);
        await handle.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // A holder that died leaves its lock behind; appends take milliseconds, so an old lock is stale.
        const age = await stat(lock).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > LOCK_STALE_MS) await unlink(lock).catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`Timed out waiting for the audit lock ${lock}`);
        await new Promise((r) => setTimeout(r, delay + Math.floor(Math.random() * delay)));
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }
}

export interface VerifyProgress {
  (checked: number): void;
}

export type VerifyResult =
  | { ok: true; records: number; headHash: string }
  | { ok: false; records: number; brokenAt: { line: number; seq: number | null; reason: string } };

/** Checks every record's hash and link. Reports the first broken record (1-based line number). */
export async function verifyAuditFile(file: string, progress?: VerifyProgress): Promise<VerifyResult> {
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = GENESIS_HASH;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const broken = (reason: string, seq: number | null = null): VerifyResult => ({
      ok: false,
      records: i,
      brokenAt: { line: lineNo, seq, reason },
    });
    let record: AuditRecord;
    try {
      record = JSON.parse(lines[i] ?? '') as AuditRecord;
    } catch {
      return broken('not valid JSON');
    }
    if (typeof record !== 'object' || record === null || typeof record.hash !== 'string') return broken('not an audit record');
    const seq = typeof record.seq === 'number' ? record.seq : null;
    if (seq !== lineNo) return broken(`sequence number is ${String(seq)}, expected ${lineNo} (a record was removed or inserted)`, seq);
    if (record.prevHash !== prev) return broken(`prevHash does not match the hash of record ${lineNo - 1}`, seq);
    if (hashRecord(record) !== record.hash) return broken('hash does not match the record content (edited)', seq);
    prev = record.hash;
    if (progress && lineNo % 1000 === 0) progress(lineNo);
  }
  return { ok: true, records: lines.length, headHash: prev };
}
