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
import { FileAuditLog } from '../../src/audit/audit-log';
import { playbookEvent } from '../helpers/audit';

const dir = mkdtempSync(path.join(os.tmpdir(), 'audit-watch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('resolves on the run-closed record of that run only, whether it came before or after the wait began', async () => {
  const file = path.join(dir, 'a', 'audit.jsonl');
  const log = new FileAuditLog(file);
  const watch = new AuditWatch(file, 5);
  try {
    // Before the file exists: nothing yet.
    const late = watch.closing('case-late', Date.now() + 5_000);
    await log.append(playbookEvent('case-early', 'decision'));
    await log.append(playbookEvent('case-early', 'run-closed'));
    assert.equal(await watch.closing('case-early', Date.now() + 5_000), true);
    // Another run's decision, then this one's decision, do not wake the wait: only its run-closed does.
    await log.append(playbookEvent('case-late', 'decision'));
    const undecided = await Promise.race([late, new Promise((r) => setTimeout(() => r('waiting'), 100))]);
    assert.equal(undecided, 'waiting');
    await log.append(playbookEvent('case-late', 'run-closed'));
    assert.equal(await late, true);
  } finally {
    watch.stop();
  }
});

test('a line written in two pieces is read once whole; a run never closed times out as false', async () => {
  const file = path.join(dir, 'b.jsonl');
  const watch = new AuditWatch(file, 5);
  try {
    const line = JSON.stringify({ ...playbookEvent('case-split', 'run-closed'), seq: 1 });
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
