/**
 * The keyed audit chain (issue #16) and one chain per run across hosts (issue #15): HMAC'd records and a signed head
 * catch a rewrite with recomputed hashes and a cut tail; keys rotate; old unkeyed files still verify (as unkeyed);
 * a run whose records land in two hosts' files verifies as one chain when the files are merged, through the real
 * `audit verify` command.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import {
  FileAuditLog,
  GENESIS_HASH,
  hashRecord,
  headFileOf,
  verifyAuditFile,
  verifyRunChains,
  type AuditEvent,
  type AuditRecord,
} from '../../src/audit/audit-log';
import { AuditTrail } from '../../src/audit/trail';
import { rawTestConfig, tempDir } from '../helpers/fixtures';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const KEY_2025 = { id: 'audit-2025', key: 'k'.repeat(40) };
const KEY_2026 = { id: 'audit-2026', key: Buffer.alloc(32, 5).toString('base64') };

function event(key: string, runId = 'run-1', data: Record<string, unknown> = { outcome: 'escalate' }): AuditEvent {
  return {
    type: 'decision',
    eventKey: `wf-1/${runId}/${key}`,
    workflowId: 'wf-1',
    runId,
    actor: 'playbook',
    at: '2026-11-28T01:15:00.000Z',
    data,
  };
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const records = (file: string) => lines(file).map((l) => JSON.parse(l) as AuditRecord);
const brokenAt = async (file: string, keys = [KEY_2026]) => {
  const result = await verifyAuditFile(file, { keys });
  return result.ok ? null : result.brokenAt;
};

async function keyedFile(count: number, keys = [KEY_2026]): Promise<string> {
  const file = path.join(tempDir('soar-audit-keys-'), 'audit.jsonl');
  const log = new FileAuditLog(file, undefined, keys);
  for (let i = 0; i < count; i++) await log.append(event(`k${i}`));
  return file;
}

/** The real CLI with `audit.keys` in its configuration (from the environment, as deployed) and nothing else secret. */
async function cli(args: string[], keys = [KEY_2026]) {
  const configFile = path.join(tempDir('soar-audit-cli-'), 'soar.yaml');
  const env: Record<string, string> = {};
  const configured = keys.map((k, i) => {
    env[`SOAR_AUDIT_KEY_${i}`] = k.key;
    return { id: k.id, key: `env:SOAR_AUDIT_KEY_${i}` };
  });
  // A deployment's other secrets are configured but not in this environment: `audit verify` does not need them.
  const raw = rawTestConfig({
    extra: { audit: { keys: configured }, http: { host: '127.0.0.1', port: 0, webhookTokens: ['env:SOAR_WEBHOOK_TOKEN'] } },
  });
  writeFileSync(configFile, stringify(raw));
  try {
    const out = await execFileAsync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'audit', 'verify', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', SOAR_CONFIG: configFile, ...env },
    });
    return { code: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('keyed audit chain', () => {
  test('signs every record and the head with the first key, and verifies', async () => {
    const file = await keyedFile(3);
    const written = records(file);
    assert.deepEqual(
      written.map((r) => [r.keyId, /^[0-9a-f]{64}$/.test(r.mac ?? '')]),
      [
        [KEY_2026.id, true],
        [KEY_2026.id, true],
        [KEY_2026.id, true],
      ],
    );
    const head = JSON.parse(readFileSync(headFileOf(file), 'utf8')) as { seq: number; hash: string; keyId: string };
    assert.deepEqual([head.seq, head.hash, head.keyId], [3, written[2]?.hash, KEY_2026.id]);
    const result = await verifyAuditFile(file, { keys: [KEY_2026] });
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && [result.keyed, result.unkeyed, result.head], [3, 0, { status: 'matches', seq: 3 }]);
  });

  test('catches a record rewritten with recomputed hashes down the chain', async () => {
    const file = await keyedFile(4);
    const forged = records(file);
    // Edit record 2 and recompute every hash after it, as the unkeyed chain allowed.
    forged[1] = { ...(forged[1] as AuditRecord), actor: 'mallory' };
    for (let i = 1; i < forged.length; i++) {
      const r = forged[i] as AuditRecord;
      r.prevHash = forged[i - 1]?.hash ?? GENESIS_HASH;
      r.hash = hashRecord(r);
    }
    writeFileSync(file, forged.map((r) => `${JSON.stringify(r)}\n`).join(''));
    assert.deepEqual(await brokenAt(file), {
      line: 2,
      seq: 2,
      reason: `MAC does not match under key "${KEY_2026.id}" (rewritten without the key)`,
    });

    // Dropping the MACs and key ids (a downgrade to an unkeyed file) is caught by the signed head.
    const unkeyed = forged.map((r, i) => {
      const { keyId: _k, mac: _m, ...rest } = r;
      return { ...rest, prevHash: i === 0 ? GENESIS_HASH : '' };
    });
    for (let i = 0; i < unkeyed.length; i++) {
      const r = unkeyed[i] as AuditRecord;
      r.prevHash = i === 0 ? GENESIS_HASH : (unkeyed[i - 1] as AuditRecord).hash;
      r.hash = hashRecord(r);
    }
    writeFileSync(file, unkeyed.map((r) => `${JSON.stringify(r)}\n`).join(''));
    assert.deepEqual(await brokenAt(file), { line: 5, seq: null, reason: "the signed head's hash does not match record 4 (rewritten)" });
  });

  test('catches a cut tail, a removed head and an edited head', async () => {
    const file = await keyedFile(4);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, `${lines(file).slice(0, 3).join('\n')}\n`);
    assert.deepEqual(await brokenAt(file), {
      line: 4,
      seq: null,
      reason: 'truncated: the signed head is record 4, the file ends at record 3',
    });

    writeFileSync(file, original);
    const head = readFileSync(headFileOf(file), 'utf8');
    writeFileSync(headFileOf(file), head.replace('"seq":4', '"seq":3'));
    assert.deepEqual(await brokenAt(file), { line: 5, seq: null, reason: 'the signed head does not match its MAC (edited)' });

    unlinkSync(headFileOf(file));
    assert.deepEqual(await brokenAt(file), {
      line: 5,
      seq: null,
      reason: `the signed head ${headFileOf(file)} is missing (removed with records?)`,
    });

    writeFileSync(headFileOf(file), '');
    assert.match((await brokenAt(file))?.reason ?? '', /signed head .* is not valid JSON/);
  });

  test('accepts one record after the head (the process stopped between the two writes), not two', async () => {
    const file = await keyedFile(2);
    const log = new FileAuditLog(file, undefined, [KEY_2026]);
    const saved = path.join(tempDir('soar-audit-head-'), 'head');
    copyFileSync(headFileOf(file), saved);
    await log.append(event('k2'));
    copyFileSync(saved, headFileOf(file));
    const result = await verifyAuditFile(file, { keys: [KEY_2026] });
    assert.deepEqual(result.ok && result.head, { status: 'behind', seq: 2, unsigned: 1 });
    await log.append(event('k3'));
    copyFileSync(saved, headFileOf(file));
    assert.deepEqual(await brokenAt(file), { line: 5, seq: null, reason: '2 records after the signed head (appended without the key)' });
  });

  test('rotates keys: old records verify with the old key listed second, and not without it', async () => {
    const file = await keyedFile(2, [KEY_2025]);
    await new FileAuditLog(file, undefined, [KEY_2026, KEY_2025]).append(event('after-rotation'));
    assert.deepEqual(
      records(file).map((r) => r.keyId),
      [KEY_2025.id, KEY_2025.id, KEY_2026.id],
    );
    assert.equal(await brokenAt(file, [KEY_2026, KEY_2025]), null);
    assert.deepEqual(await brokenAt(file, [KEY_2026]), {
      line: 1,
      seq: 1,
      reason: `signed with key "${KEY_2025.id}", which is not configured under audit.keys`,
    });
  });

  test('an old unkeyed file still verifies, reported as unkeyed, and keyed records continue it', async () => {
    const file = path.join(tempDir('soar-audit-keys-'), 'audit.jsonl');
    const old = new FileAuditLog(file);
    for (let i = 0; i < 2; i++) await old.append(event(`old${i}`));
    const before = await cli(['--file', file]);
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /^OK: 2 records, hash chain intact; head [0-9a-f]{64}$/m);
    assert.match(before.stdout, /keys: UNKEYED \(written without audit.keys/);
    assert.match(before.stdout, /signed head: none \(unkeyed file\)/);

    await new FileAuditLog(file, undefined, [KEY_2026]).append(event('new'));
    const after = await cli(['--file', file]);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /keys: 1 records keyed, 2 older unkeyed records before them; MACs valid/);
    assert.match(after.stdout, /signed head: record 3, matches the end of the file/);

    // Once keyed, the file takes no unkeyed record (a process started without the keys fails closed).
    await assert.rejects(old.append(event('unkeyed-again')), /holds keyed records but audit.keys is empty/);
    const cut = lines(file).slice(0, 2);
    writeFileSync(file, `${cut.join('\n')}\n`);
    const truncated = await cli(['--file', file]);
    assert.equal(truncated.code, 5);
    assert.equal(
      truncated.stdout.trim(),
      'BROKEN at record 3: truncated: the signed head is record 3, the file ends at record 2. 2 records before it are intact.',
    );
  });
});

describe('one chain per run across hosts', () => {
  /** The workflow's side of the run chain: it carries the previous record's runHash into the next audit activity. */
  async function run(trails: AuditTrail[], runId: string, steps: number, pick: (step: number) => number) {
    let head = GENESIS_HASH;
    for (let i = 0; i < steps; i++) {
      const type = i === steps - 1 ? 'run-closed' : 'decision';
      const receipt = await trails[pick(i)]?.record({ ...event(`step-${i}`, runId), type, runPrevHash: head });
      head = receipt?.runHash ?? head;
    }
  }

  test('a run written to two hosts’ files verifies as one chain when they are merged, a retry counting once', async () => {
    const dir = tempDir('soar-audit-hosts-');
    const [fileA, fileB] = [path.join(dir, 'host-a.jsonl'), path.join(dir, 'host-b.jsonl')];
    const trails = [
      new AuditTrail(new FileAuditLog(fileA, undefined, [KEY_2026])),
      new AuditTrail(new FileAuditLog(fileB, undefined, [KEY_2026])),
    ];
    await run(trails, 'run-1', 5, (i) => i % 2);
    await run(trails, 'run-2', 3, () => 1);
    // Host A wrote step 1 of run-2 too: its worker died before reporting, and host B's retry wrote it again.
    const retried = records(fileB).find((r) => r.eventKey === 'wf-1/run-2/step-1');
    await trails[0]?.record({ ...event('step-1', 'run-2'), runPrevHash: retried?.runPrevHash ?? '' });

    const ok = await cli(['--file', fileA, '--file', fileB]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /runs: 2 run chains intact \(2 closed, 0 open\), 1 records written twice by retries on another host/);

    // One host's file alone is not the run: its records do not link up.
    const alone = await cli(['--file', fileA]);
    assert.equal(alone.code, 5);
    assert.match(
      alone.stdout,
      /^BROKEN run chain of wf-1\/run-1: \d record\(s\) do not link to the run's first record \(wf-1\/run-1\/step-\d follows a record that is in none of the files\)\.$/m,
    );
  });

  test('two different records following the same one are a fork', () => {
    const a = { ...event('a'), runPrevHash: GENESIS_HASH, runHash: '1'.repeat(64) } as AuditRecord;
    const b = { ...event('b'), runPrevHash: GENESIS_HASH, runHash: '2'.repeat(64) } as AuditRecord;
    assert.deepEqual(verifyRunChains([a, b]), {
      ok: false,
      run: 'wf-1/run-1',
      reason: 'two different records follow the same one (wf-1/run-1/a and wf-1/run-1/b)',
    });
    assert.deepEqual(verifyRunChains([{ ...event('old') } as AuditRecord]), { ok: true, runs: [], unchained: 1 });
  });
});
