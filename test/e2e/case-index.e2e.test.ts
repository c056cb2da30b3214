/**
 * The case index starts its cases itself (patch `case-start-by-activity`: a local activity, not a child workflow), on
 * a real dev server and real workers (every workflow task of the cases replayed). It does not hear when its case
 * closes, so:
 * - at the end of its quiet window it asks whether the case still runs, stays while it does (a later alert joins
 *   that case) and ends once the case has closed;
 * - an alert whose case exists beyond what a (new) index remembers is answered as a duplicate naming that case, and
 *   when that case has closed, the next alert opens a case of its own; a case that runs is adopted as the open one
 *   (the state a worker killed between the case's start and the end of the index's task leaves).
 * Nothing of the project's is mocked.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { CaseKeys, caseIndexIdFor } from '../../src/ingest/case-key';
import { normalizeGeneric } from '../../src/ingest/generic';
import { decideApproval, playbookInput } from '../../src/temporal/playbook-runs';
import { createCloudStorageCatalog } from '../../src/wiring';
import { caseStartOptions } from '../../workflows/case-summary';
import { exfilToCloudStorage } from '../../workflows/exfil-to-cloud-storage';
import { startE2e, type E2e } from '../helpers/e2e';
import { unique } from '../helpers/fixtures';
import { eventually } from '../helpers/temporal';

const WINDOW_MS = 3_000;

interface Subject {
  user: string;
  destDomain: string;
}

interface Ack {
  status: number;
  body: { workflowId: string; duplicate: boolean; joined?: boolean };
}

describe('the case index starts its cases and follows them without being their parent', () => {
  let e2e: E2e;

  before(async () => {
    e2e = await startE2e({
      name: 'case-index',
      configure: (raw) => ({ ...raw, ingest: { ...(raw.ingest as object), dedupWindow: `${WINDOW_MS}ms` } }),
      maxCachedWorkflows: 0,
    });
  });

  after(async () => {
    await e2e?.stop();
  });

  const generic = async (alert: object): Promise<Ack> => {
    const res = await e2e.post('/webhooks/siem/generic', JSON.stringify(alert));
    return { status: res.status, body: (await res.json()) as Ack['body'] };
  };
  /** A generic alert that escalates (700 MiB to cloud storage): its case waits for approval, so it stays open. */
  const escalating = ({ user, destDomain }: Subject) => ({
    alertId: unique('idx'),
    user,
    host: 'LAPTOP-JD01',
    srcIp: '10.20.30.40',
    destDomain,
    bytesOut: 734003200,
    eventTime: new Date(Date.now() - 3600_000).toISOString(),
    severity: 'high',
    ruleName: 'Large upload to cloud storage',
  });
  const indexOf = async (subject: Subject) =>
    e2e.client.workflow.getHandle(caseIndexIdFor(await new CaseKeys(createCloudStorageCatalog(e2e.config)).of(subject)));
  const status = async (workflowId: string) => (await e2e.client.workflow.getHandle(workflowId).describe()).status.name;
  const deny = async (workflowId: string) => {
    await eventually(async () => (await e2e.run(workflowId)).stage === 'awaiting-approval', 30_000, 'the approval request');
    await decideApproval(e2e.client, workflowId, { decision: 'deny', approver: 'alice', via: 'cli' });
    await e2e.client.workflow.getHandle(workflowId).result();
  };

  test('the index outlives its quiet window while its case runs, takes a late alert into it, and ends after it', { timeout: 120_000 }, async () => {
    // Users known to HR, so one approver's denial closes the case; one case key per test.
    const subject = { user: 'jdoe', destDomain: 'dropbox.com' };
    const opened = await generic(escalating(subject));
    assert.equal(opened.status, 202);
    assert.equal(opened.body.joined, false);
    const caseId = opened.body.workflowId;
    const index = await indexOf(subject);

    // Not a child: the case has no parent, and the index's history holds no child events, one start marker.
    assert.equal((await e2e.client.workflow.getHandle(caseId).describe()).parentExecution, undefined);
    const events = (await index.fetchHistory()).events ?? [];
    assert.ok(!events.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes), 'no child start in the index');
    assert.equal(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length, 1);

    // Quiet past the window: the index asked, the case runs, so it stays, and a late alert joins the case.
    await sleep(WINDOW_MS + 2_000);
    assert.equal(await status(index.workflowId), 'RUNNING');
    const late = await generic(escalating(subject));
    assert.deepEqual(late.body, { workflowId: caseId, duplicate: false, joined: true });
    await eventually(async () => ((await e2e.run(caseId)).alerts.length === 2 ? true : null), 30_000, 'the late alert in the case');

    // The case closes: at the end of the next quiet window the index finds it closed and ends.
    await deny(caseId);
    await eventually(async () => ((await status(index.workflowId)) === 'COMPLETED' ? true : null), 30_000, 'the index to end');
  });

  test('a case started whose answer was lost (the worker killed between the start and the end of its task) is adopted: no second run, the next alert joins it', { timeout: 120_000 }, async () => {
    const subject = { user: 'jdoe', destDomain: 'box.com' };
    const body = escalating(subject);
    const normalized = normalizeGeneric(body, new Date(), '', e2e.config.identity);
    assert.ok(normalized.ok);
    // The state a kill at the worst moment leaves: the index's local activity started the case, and the index's task
    // never completed, so the index has no record of it (here: there is no index yet).
    const started = await e2e.client.workflow.start(exfilToCloudStorage, {
      ...caseStartOptions(normalized.alert),
      taskQueue: e2e.config.temporal.taskQueue,
      args: [playbookInput(e2e.config, normalized.alert)],
    });
    // The alert again (the task's retry, or the SIEM's): its start is refused, and the answer names the running case.
    const again = await generic(body);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { workflowId: started.workflowId, duplicate: true });
    // That case is the open one: the next alert joins it rather than opening another.
    const next = await generic(escalating(subject));
    assert.deepEqual(next.body, { workflowId: started.workflowId, duplicate: false, joined: true });
    await eventually(async () => ((await e2e.run(started.workflowId)).alerts.length === 2 ? true : null), 30_000, 'the join');
    await deny(started.workflowId);
  });

  test('an alert whose case exists beyond the index is a duplicate; that case closed, the next alert opens its own', { timeout: 120_000 }, async () => {
    const subject = { user: 'bleaver', destDomain: 'box.com' };
    const opener = escalating(subject);
    const opened = await generic(opener);
    assert.equal(opened.status, 202);
    const index = await indexOf(subject);
    await deny(opened.body.workflowId);
    await eventually(async () => ((await status(index.workflowId)) === 'COMPLETED' ? true : null), 30_000, 'the index to end');

    // A fresh index does not remember the opener; the start it tries is refused, and the answer names the case.
    const again = await generic(opener);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { workflowId: opened.body.workflowId, duplicate: true });

    // That case has closed: the next alert's join is refused, and it opens a case of its own.
    const next = escalating(subject);
    const answer = await generic(next);
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body, { workflowId: `t1567-002-generic-${next.alertId}`, duplicate: false, joined: false });
    assert.equal(await status(answer.body.workflowId), 'RUNNING');
    await deny(answer.body.workflowId);
  });
});
