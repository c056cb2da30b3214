/**
 * The audit trail: an append-only JSON Lines file in which every record carries the SHA-256 hash of the record
 * before it, so an edited, inserted, reordered or deleted record breaks the chain (`npm run soar -- audit verify`).
 *
 * Keys. With `audit.keys` configured, every record also carries `keyId` and `mac`, the HMAC-SHA256 of its hash under
 * that key, and a signed head file (`<file>.head`: the last record's seq and hash, HMAC'd) is rewritten after every
 * append: a file rewritten with recomputed hashes fails the MACs, and a cut tail no longer reaches the signed head.
 * Records written before the keys (no `keyId`) still verify, reported as unkeyed.
 *
 * One chain per run. The workflow passes the `runHash` of its previous record (`runPrevHash`) into each audit
 * activity, so a run's records form their own chain whichever host's file they land in: `audit verify` over the
 * files of every host merges the records by run and checks each run's chain (a record written twice by a retry on
 * another host has the same `runHash`, computed from the event only, and counts once).
 *
 * Concurrency. Within a process, appends are serialized by a promise queue. Across processes on one host (several
 * workers sharing a data folder), each append holds an exclusive lock file (`<file>.lock`, created with O_EXCL) and
 * first reads whatever other processes appended since, so the chain stays linear. Workers on different hosts must
 * not share one file over a network filesystem: give each host its own file (its own chain) and forward to the SIEM.
 *
 * Idempotency. Activities are retried, so every event carries a key unique to the run and the event; an event whose
 * key is already in the file is not appended again.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { open, mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
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
  /**
   * The `runHash` of the run's previous record (`GENESIS_HASH` for its first): set by runs started since the run
   * chain (patch `audit-run-chain`); absent in older records.
   */
  runPrevHash?: string;
}

export interface AuditRecord extends AuditEvent {
  /** 1 for the first record in the file, then consecutive. */
  seq: number;
  /** When it was written. */
  recordedAt: string;
  /** The previous record's `hash`; 64 zeros for the first. */
  prevHash: string;
  /** SHA-256 of the event's own fields and `runPrevHash`: the link of the run's chain (with `runPrevHash` only). */
  runHash?: string;
  /** The `audit.keys` entry that signed `mac` (absent in unkeyed records). */
  keyId?: string;
  /** SHA-256 (hex) of the canonical JSON of this record without `hash` and `mac`. */
  hash: string;
  /** HMAC-SHA256 (hex) of `hash` under the key `keyId`. */
  mac?: string;
}

/** A key of `audit.keys`: the first signs, all verify (so a key can be rotated without breaking old records). */
export interface AuditKey {
  id: string;
  key: string;
}

export function hashRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const rest: Record<string, unknown> = { ...record };
  delete rest.hash;
  delete rest.mac;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

/** The link of a run's chain: the event as the workflow reported it (no file fields), so every host computes the same. */
export function runHashOf(event: AuditEvent): string {
  const { type, eventKey, workflowId, runId, actor, at, data, runPrevHash } = event;
  return createHash('sha256')
    .update(canonicalJson({ type, eventKey, workflowId, runId, actor, at, data, runPrevHash }), 'utf8')
    .digest('hex');
}

const hmac = (key: string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest('hex');
const macEquals = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const headText = (seq: number, hash: string) => `soar-audit-head:${seq}:${hash}`;

/** The signed head next to a keyed file: what a cut tail cannot reproduce without the key. */
export interface AuditHead {
  seq: number;
  hash: string;
  keyId: string;
  mac: string;
}

export const headFileOf = (file: string) => `${file}.head`;

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 15_000;

export class FileAuditLog {
  readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();
  /** How far this process has read the file, and what it learned there. */
  private offset = 0;
  private lastSeq = 0;
  private lastHash = GENESIS_HASH;
  private readonly eventKeys = new Set<string>();
  private sawKeyed = false;
  private partial = '';

  /**
   * @param keys `audit.keys`: the first signs every record and the head; empty writes unkeyed records (as before
   * the keys existed).
   */
  constructor(
    file: string,
    private readonly now: () => Date = () => new Date(),
    private readonly keys: readonly AuditKey[] = [],
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
    if (this.eventKeys.has(event.eventKey)) return { record: null, appended: false };
    const signer = this.keys[0];
    if (!signer && this.sawKeyed) {
      throw new Error(`The audit file ${this.file} holds keyed records but audit.keys is empty: refusing to append unkeyed ones.`);
    }
    const unhashed: Omit<AuditRecord, 'hash'> = {
      ...event,
      ...(event.runPrevHash !== undefined ? { runHash: runHashOf(event) } : {}),
      seq: this.lastSeq + 1,
      recordedAt: this.now().toISOString(),
      prevHash: this.lastHash,
      ...(signer ? { keyId: signer.id } : {}),
    };
    const hash = hashRecord(unhashed);
    const record: AuditRecord = { ...unhashed, hash, ...(signer ? { mac: hmac(signer.key, hash) } : {}) };
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
    this.eventKeys.add(record.eventKey);
    if (signer) {
      this.sawKeyed = true;
      await this.writeHead(signer, record);
    }
    return { record, appended: true };
  }

  /** Replaces the signed head (write, sync, rename: a reader sees the old head or the new one, never half). */
  private async writeHead(signer: AuditKey, record: AuditRecord): Promise<void> {
    const head: AuditHead = {
      seq: record.seq,
      hash: record.hash,
      keyId: signer.id,
      mac: hmac(signer.key, headText(record.seq, record.hash)),
    };
    const target = headFileOf(this.file);
    const tmp = `${target}.${process.pid}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.write(`${JSON.stringify(head)}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
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
        this.eventKeys.add(record.eventKey);
        if (record.keyId !== undefined) this.sawKeyed = true;
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

export interface VerifyOptions {
  /** `audit.keys`: every key a record or head may name. */
  keys?: readonly AuditKey[];
  progress?: VerifyProgress;
}

/** What a file's signed head says about its end. */
export type HeadStatus =
  | { status: 'matches'; seq: number }
  /** The head names an earlier record: the process stopped between writing a record and its head. */
  | { status: 'behind'; seq: number; unsigned: number }
  /** No head file and no keyed record: a file written without `audit.keys`. */
  | { status: 'none' };

export type VerifyResult =
  | { ok: true; records: number; headHash: string; keyed: number; unkeyed: number; head: HeadStatus; parsed: AuditRecord[] }
  | { ok: false; records: number; brokenAt: { line: number; seq: number | null; reason: string } };

/**
 * Checks every record's hash, link and (keyed records) MAC, then the end of the file against the signed head.
 * Reports the first broken record (1-based line number); a cut tail is reported at the line after the last one.
 */
export async function verifyAuditFile(file: string, options: VerifyOptions | VerifyProgress = {}): Promise<VerifyResult> {
  const { keys = [], progress } = typeof options === 'function' ? { progress: options } : options;
  const ring = new Map(keys.map((k) => [k.id, k.key]));
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = GENESIS_HASH;
  let keyed = 0;
  const parsed: AuditRecord[] = [];
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
    if (record.keyId !== undefined) {
      const key = ring.get(record.keyId);
      if (key === undefined) return broken(`signed with key "${record.keyId}", which is not configured under audit.keys`, seq);
      if (typeof record.mac !== 'string' || !macEquals(record.mac, hmac(key, record.hash))) {
        return broken(`MAC does not match under key "${record.keyId}" (rewritten without the key)`, seq);
      }
      keyed++;
    } else if (keyed > 0) {
      return broken('unkeyed record after keyed ones (appended without the key)', seq);
    } else if (record.mac !== undefined) {
      return broken('MAC without a keyId', seq);
    }
    if (record.runPrevHash !== undefined && record.runHash !== runHashOf(record)) {
      return broken('runHash does not match the event (edited)', seq);
    }
    parsed.push(record);
    prev = record.hash;
    if (progress && lineNo % 1000 === 0) progress(lineNo);
  }
  const head = await checkHead(file, parsed, ring, keyed > 0);
  if ('reason' in head) return { ok: false, records: head.records, brokenAt: { line: head.records + 1, seq: null, reason: head.reason } };
  return { ok: true, records: lines.length, headHash: prev, keyed, unkeyed: lines.length - keyed, head, parsed };
}

async function checkHead(
  file: string,
  records: AuditRecord[],
  ring: Map<string, string>,
  anyKeyed: boolean,
): Promise<HeadStatus | { records: number; reason: string }> {
  let text: string;
  try {
    text = await readFile(headFileOf(file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (anyKeyed) return { records: records.length, reason: `the signed head ${headFileOf(file)} is missing (removed with records?)` };
    return { status: 'none' };
  }
  let head: Partial<AuditHead>;
  try {
    head = JSON.parse(text) as Partial<AuditHead>;
  } catch {
    return { records: records.length, reason: `the signed head ${headFileOf(file)} is not valid JSON` };
  }
  const key = typeof head.keyId === 'string' ? ring.get(head.keyId) : undefined;
  if (key === undefined) {
    return {
      records: records.length,
      reason: `the signed head is signed with key "${String(head.keyId)}", which is not configured under audit.keys`,
    };
  }
  if (
    typeof head.seq !== 'number' ||
    typeof head.hash !== 'string' ||
    typeof head.mac !== 'string' ||
    !macEquals(head.mac, hmac(key, headText(head.seq, head.hash)))
  ) {
    return { records: records.length, reason: 'the signed head does not match its MAC (edited)' };
  }
  if (head.seq > records.length) {
    return {
      records: records.length,
      reason: `truncated: the signed head is record ${head.seq}, the file ends at record ${records.length}`,
    };
  }
  if (records[head.seq - 1]?.hash !== head.hash) {
    return { records: records.length, reason: `the signed head's hash does not match record ${head.seq} (rewritten)` };
  }
  const unsigned = records.length - head.seq;
  // One record at most can lag (written, then the process stopped before the head); more was appended without the key.
  if (unsigned > 1) return { records: records.length, reason: `${unsigned} records after the signed head (appended without the key)` };
  return unsigned === 0 ? { status: 'matches', seq: head.seq } : { status: 'behind', seq: head.seq, unsigned };
}

/** A run's chain as `verifyRunChains` found it. */
export interface RunChain {
  workflowId: string;
  runId: string;
  records: number;
  /** Records seen more than once (a retry on another host wrote the same event to its own file). */
  duplicates: number;
  closed: boolean;
}

export type RunChainResult = { ok: true; runs: RunChain[]; unchained: number } | { ok: false; run: string; reason: string };

/**
 * Checks each run's own chain over records merged from any number of files (one per host): every chained record
 * links to the run's previous one, no two records follow the same one, and the chain is complete from the first.
 * Records without `runPrevHash` (runs started before the run chain) are counted as unchained.
 */
export function verifyRunChains(records: AuditRecord[]): RunChainResult {
  const byRun = new Map<string, AuditRecord[]>();
  let unchained = 0;
  for (const r of records) {
    if (r.runPrevHash === undefined || r.runHash === undefined) {
      unchained++;
      continue;
    }
    const key = `${r.workflowId}/${r.runId}`;
    const list = byRun.get(key) ?? [];
    list.push(r);
    byRun.set(key, list);
  }
  const runs: RunChain[] = [];
  for (const [run, list] of byRun) {
    const byHash = new Map<string, AuditRecord>();
    let duplicates = 0;
    for (const r of list) {
      if (byHash.has(r.runHash ?? '')) duplicates++;
      else byHash.set(r.runHash ?? '', r);
    }
    const next = new Map<string, AuditRecord>();
    for (const r of byHash.values()) {
      const prev = r.runPrevHash ?? '';
      const other = next.get(prev);
      if (other) return { ok: false, run, reason: `two different records follow the same one (${other.eventKey} and ${r.eventKey})` };
      next.set(prev, r);
    }
    let at = GENESIS_HASH;
    let count = 0;
    let last: AuditRecord | undefined;
    for (let r = next.get(at); r; r = next.get(at)) {
      count++;
      last = r;
      at = r.runHash ?? '';
    }
    if (count !== byHash.size) {
      const orphan = [...byHash.values()].find((r) => r.runPrevHash !== GENESIS_HASH && !byHash.has(r.runPrevHash ?? ''));
      return {
        ok: false,
        run,
        reason: `${byHash.size - count} record(s) do not link to the run's first record${orphan ? ` (${orphan.eventKey} follows a record that is in none of the files)` : ''}`,
      };
    }
    const { workflowId = '', runId = '' } = list[0] ?? {};
    runs.push({ workflowId, runId, records: count, duplicates, closed: last?.type === 'run-closed' });
  }
  return { ok: true, runs, unchained };
}
