/**
 * The hash-chained audit trail: appends, idempotency, tamper detection (in code and through `audit verify`),
 * concurrent writers in one process and in several, and forwarding to Splunk HEC / Elasticsearch stand-ins.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { FileAuditLog, GENESIS_HASH, hashRecord, verifyAuditFile, type AuditEvent, type AuditRecord } from '../../src/audit/audit-log';
import { AuditTrail } from '../../src/audit/trail';
import { parseConfig } from '../../src/config';
import { createAuditForwarder } from '../../src/wiring';
import { PlaybookMetrics } from '../../src/metrics';
import { StandIn } from '../fakes/stand-in';
import { auditRecords } from '../helpers/audit';
import { rawTestConfig, tempDir } from '../helpers/fixtures';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

function event(key: string, type: AuditEvent['type'] = 'decision', data: Record<string, unknown> = { outcome: 'escalate' }): AuditEvent {
  return { type, eventKey: key, workflowId: 'wf-1', runId: 'run-1', actor: 'playbook', at: '2026-11-28T01:15:00.000Z', data };
}

async function cli(file: string, ...args: string[]) {
  const dir = tempDir('soar-audit-cli-');
  const configFile = path.join(dir, 'soar.yaml');
  writeFileSync(configFile, stringify(rawTestConfig({ extra: { audit: { file } } })));
  try {
    const out = await execFileAsync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, SOAR_CONFIG: configFile },
    });
    return { code: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('audit trail', () => {
  test('chains each record to the hash of the one before and verifies', async () => {
    const file = path.join(tempDir('soar-audit-'), 'audit.jsonl');
    const log = new FileAuditLog(file);
    for (let i = 0; i < 5; i++) await log.append(event(`k${i}`));
    const records = auditRecords(file);
    assert.equal(records.length, 5);
    assert.equal(records[0]?.prevHash, GENESIS_HASH);
    for (let i = 1; i < records.length; i++) assert.equal(records[i]?.prevHash, records[i - 1]?.hash);
    for (const r of records) assert.equal(hashRecord(r), r.hash);
    assert.deepEqual(
      records.map((r) => r.seq),
      [1, 2, 3, 4, 5],
    );
    const result = await verifyAuditFile(file);
    assert.deepEqual(result, {
      ok: true,
      records: 5,
      headHash: records[4]?.hash,
      keyed: 0,
      unkeyed: 5,
      head: { status: 'none' },
      parsed: records,
    });
  });

  test('writes an event once even when the activity retries it', async () => {
    const file = path.join(tempDir('soar-audit-'), 'audit.jsonl');
    const log = new FileAuditLog(file);
    assert.equal((await log.append(event('same'))).appended, true);
    assert.equal((await log.append(event('same'))).appended, false);
    // A second process (a retry on another worker) sees the key in the file too.
    assert.equal((await new FileAuditLog(file).append(event('same'))).appended, false);
    assert.equal(auditRecords(file).length, 1);
  });

  test('audit verify reports the first edited record and exits 5', async () => {
    const file = path.join(tempDir('soar-audit-'), 'audit.jsonl');
    const log = new FileAuditLog(file);
    for (let i = 0; i < 4; i++) await log.append(event(`k${i}`, 'approval', { status: 'approved', decidedBy: 'alice' }));
    const ok = await cli(file, 'audit', 'verify');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^OK: 4 records, hash chain intact; head [0-9a-f]{64}$/m);

    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = (lines[2] ?? '').replace('"decidedBy":"alice"', '"decidedBy":"mallory"');
    writeFileSync(file, lines.join('\n'));
    const broken = await cli(file, 'audit', 'verify');
    assert.equal(broken.code, 5);
    assert.equal(
      broken.stdout.trim(),
      'BROKEN at record 3: hash does not match the record content (edited). 2 records before it are intact.',
    );
  });

  test('detects a removed record and a forged record whose hash was recomputed', async () => {
    const file = path.join(tempDir('soar-audit-'), 'audit.jsonl');
    const log = new FileAuditLog(file);
    for (let i = 0; i < 4; i++) await log.append(event(`k${i}`));
    const original = readFileSync(file, 'utf8').split('\n');

    writeFileSync(file, [original[0], original[2], original[3], ''].join('\n'));
    const removed = await verifyAuditFile(file);
    assert.deepEqual(removed.ok ? null : removed.brokenAt, {
      line: 2,
      seq: 3,
      reason: 'sequence number is 3, expected 2 (a record was removed or inserted)',
    });

    const forged = JSON.parse(original[1] ?? '') as AuditRecord;
    forged.actor = 'mallory';
    forged.hash = hashRecord(forged);
    writeFileSync(file, [original[0], JSON.stringify(forged), original[2], original[3], ''].join('\n'));
    const relinked = await verifyAuditFile(file);
    assert.deepEqual(relinked.ok ? null : relinked.brokenAt, {
      line: 3,
      seq: 3,
      reason: 'prevHash does not match the hash of record 2',
    });
  });

  test('keeps one linear chain with concurrent writers in this process and in two other processes', async () => {
    const file = path.join(tempDir('soar-audit-'), 'audit.jsonl');
    const script = `
      const { FileAuditLog } = require(${JSON.stringify(path.join(ROOT, 'src/audit/audit-log.ts'))});
      const log = new FileAuditLog(process.argv[1]);
      Promise.all(Array.from({ length: 40 }, (_, i) => log.append({ type: 'containment', eventKey: process.pid + '/' + i,
        workflowId: 'wf', runId: 'r', actor: 'playbook', at: new Date().toISOString(), data: { i } })))
        .then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
    const child = () => execFileAsync(process.execPath, ['--import', 'tsx', '-e', script, file], { cwd: ROOT });
    const logs = [new FileAuditLog(file), new FileAuditLog(file), new FileAuditLog(file)];
    await Promise.all([
      child(),
      child(),
      ...logs.flatMap((log, w) => Array.from({ length: 20 }, (_, i) => log.append(event(`in-process/${w}/${i}`)))),
    ]);
    const result = await verifyAuditFile(file);
    assert.deepEqual(result.ok ? result.records : result, 140);
    assert.equal(new Set(auditRecords(file).map((r) => r.eventKey)).size, 140);
  });

  describe('forwarding to the SIEM', () => {
    const siem = new StandIn();
    before(() => siem.start());
    after(() => siem.stop());

    test('sends each record to Splunk HEC with the Splunk token and re-sends it after a refusal', async () => {
      let refuse = true;
      siem.on('POST', '/services/collector/event', () =>
        refuse ? { status: 503, body: { text: 'Server is busy', code: 9 } } : { status: 200, body: { text: 'Success', code: 0 } },
      );
      const config = parseConfig(
        rawTestConfig({
          extra: {
            vendors: { splunk: { hecUrl: siem.url, hecToken: 'hec-token-123' } },
            audit: { forward: { to: 'splunk', index: 'soar' } },
          },
        }),
        {},
      );
      const file = path.join(tempDir('soar-audit-'), 'audit.jsonl');
      const metrics = new PlaybookMetrics({ processMetrics: false });
      const trail = new AuditTrail(new FileAuditLog(file), createAuditForwarder(config), metrics);
      const ev = event('fwd-1', 'run-closed', { outcome: 'denied' });
      await assert.rejects(trail.record(ev), /splunk-hec: forward audit record 1: HTTP 503/);
      assert.equal(auditRecords(file).length, 1, 'the local chain is written before forwarding');
      refuse = false;
      const receipt = await trail.record(ev);
      assert.equal(receipt.appended, false, 'the retry does not write the record twice');
      const calls = siem.calls('POST', '/services/collector/event');
      assert.equal(calls.length, 2);
      const last = calls[1];
      assert.equal(last?.headers.authorization, 'Splunk hec-token-123');
      assert.equal((last?.json as { index: string }).index, 'soar');
      assert.deepEqual((last?.json as { event: AuditRecord }).event, auditRecords(file)[0]);
      assert.match(await metrics.registry.metrics(), /soar_runs_closed_total\{outcome="denied"\} 1/);
    });

    test('indexes each record through Elasticsearch _bulk with its hash as the document ID', async () => {
      siem.on('POST', '/_bulk', () => ({ status: 200, body: { took: 3, errors: false, items: [{ index: { status: 201 } }] } }));
      const config = parseConfig(
        rawTestConfig({
          extra: { vendors: { elasticsearch: { url: siem.url, apiKey: 'es-key-456' } }, audit: { forward: { to: 'elasticsearch' } } },
        }),
        {},
      );
      const file = path.join(tempDir('soar-audit-'), 'audit.jsonl');
      const trail = new AuditTrail(new FileAuditLog(file), createAuditForwarder(config));
      await trail.record(event('es-1'));
      const call = siem.calls('POST', '/_bulk').at(-1);
      assert.equal(call?.headers.authorization, 'ApiKey es-key-456');
      assert.equal(call?.headers['content-type'], 'application/x-ndjson');
      const [action, doc] = (call?.body ?? '')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown);
      const record = auditRecords(file)[0];
      assert.deepEqual(action, { index: { _index: 'soar-audit', _id: record?.hash } });
      assert.deepEqual(doc, record);
    });
  });
});
