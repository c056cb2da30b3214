/**
 * The bench's audit-file follower (scripts/bench/audit-watch.ts): the throughput scenario learns from it that a
 * project run is closing. Records are written by the product's own audit log, so a change of its format shows here.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { AuditWatch } from '../../scripts/bench/audit-watch';
import { FileAuditLog, type AuditEvent } from '../../src/audit/audit-log';

const dir = mkdtempSync(path.join(os.tmpdir(), 'audit-watch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const event = (type: AuditEvent['type'], workflowId: string): AuditEvent => ({
  type,
  eventKey: `${workflowId}/run-1/${type}`,
  workflowId,
  runId: 'run-1',
  actor: 'playbook',
  at: '2026-12-01T10:00:00.000Z',
  data: {},
});

test('resolves on the run-closed record of that run only, whether it came before or after the wait began', async () => {
  const file = path.join(dir, 'a', 'audit.jsonl');
  const log = new FileAuditLog(file);
  const watch = new AuditWatch(file, 5);
  try {
    // Before the file exists: nothing yet.
    const late = watch.closing('case-late', Date.now() + 5_000);
    await log.append(event('decision', 'case-early'));
    await log.append(event('run-closed', 'case-early'));
    assert.equal(await watch.closing('case-early', Date.now() + 5_000), true);
    // Another run's decision, then this one's decision, do not wake the wait: only its run-closed does.
    await log.append(event('decision', 'case-late'));
    const undecided = await Promise.race([late, new Promise((r) => setTimeout(() => r('waiting'), 100))]);
    assert.equal(undecided, 'waiting');
    await log.append(event('run-closed', 'case-late'));
    assert.equal(await late, true);
  } finally {
    watch.stop();
  }
});

test('a line written in two pieces is read once whole; a run never closed times out as false', async () => {
  const file = path.join(dir, 'b.jsonl');
  const watch = new AuditWatch(file, 5);
  try {
    const line = JSON.stringify({ ...event('run-closed', 'case-split'), seq: 1 });
    const waiting = watch.closing('case-split', Date.now() + 5_000);
    appendFileSync(file, line.slice(0, 40));
    await new Promise((r) => setTimeout(r, 30));
    appendFileSync(file, `${line.slice(40)}\n`);
    assert.equal(await waiting, true);
    const started = Date.now();
    assert.equal(await watch.closing('case-never', Date.now() + 150), false);
    assert.ok(Date.now() - started >= 100, 'the wait lasted until its deadline');
  } finally {
    watch.stop();
  }
});
