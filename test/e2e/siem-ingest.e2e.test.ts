/* eslint-disable @typescript-eslint/no-explicit-any -- sample payloads are edited as loose JSON */
/**
 * SIEM ingestion end to end on a real Temporal dev server and a real worker (every workflow task replayed): the
 * sample payloads of each SIEM, authenticated as each SIEM would, become cases; repeated deliveries are duplicates
 * and different alerts for the same user and destination service join the open case, also when they arrive
 * concurrently; a closed case is not joined, and its alerts stay duplicates. Nothing of the project's is mocked.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { RunState } from '../../src/contracts/playbook';
import { startE2e, type E2e } from '../helpers/e2e';
import { unique } from '../helpers/fixtures';
import { eventually } from '../helpers/temporal';

const EXAMPLES = path.resolve(__dirname, '../../examples');
const exampleJson = (name: string) => JSON.parse(readFileSync(path.join(EXAMPLES, name), 'utf8')) as Record<string, any>;
const WHSEC = `whsec_${randomBytes(32).toString('base64')}`;
const SPLUNK_TOKEN = 'e2e-splunk-token-123456';
const KIBANA_TOKEN = 'e2e-kibana-token-123456';
const anHourAgo = () => new Date(Date.now() - 3600_000).toISOString();

interface Ack {
  status: number;
  body: { workflowId: string; duplicate: boolean; joined?: boolean; results?: { status: string; workflowId: string }[] };
}

describe('SIEM ingestion, deduplication and case joining, end to end', () => {
  let e2e: E2e;

  before(async () => {
    e2e = await startE2e({
      name: 'ingest',
      configure: (raw) => ({
        ...raw,
        ingest: {
          ...(raw.ingest as object),
          sources: {
            splunk: { auth: { type: 'query-token', tokens: [SPLUNK_TOKEN] } },
            elastic: { auth: { type: 'bearer', tokens: [KIBANA_TOKEN] } },
            sentinel: { auth: { type: 'standard-webhooks', secrets: [WHSEC] } },
          },
        },
      }),
      maxCachedWorkflows: 0,
    });
  });

  after(async () => {
    await e2e?.stop();
  });

  const send = async (url: string, body: string, headers: Record<string, string>): Promise<Ack> => {
    const res = await e2e.post(url, body, headers);
    return { status: res.status, body: (await res.json()) as Ack['body'] };
  };
  const generic = (alert: object) => send('/webhooks/siem/generic', JSON.stringify(alert), {});
  const splunk = (body: object) => send(`/webhooks/siem/splunk?token=${SPLUNK_TOKEN}`, JSON.stringify(body), {});
  const elastic = (body: object) => send('/webhooks/siem/elastic', JSON.stringify(body), { authorization: `Bearer ${KIBANA_TOKEN}` });
  const sentinel = (body: object) => {
    const text = JSON.stringify(body);
    const id = `msg_${randomBytes(6).toString('hex')}`;
    const now = new Date();
    return send('/webhooks/siem/sentinel', text, {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(WHSEC).sign(id, now, text),
    });
  };
  const getRun = (id: string) => e2e.run(id);
  const runWith = (id: string, what: string, pred: (run: RunState) => boolean) =>
    eventually(
      async () => {
        const run = await getRun(id);
        return pred(run) ? run : null;
      },
      30_000,
      what,
    );

  /** A generic alert that escalates (700 MiB to Dropbox): the case waits for approval, so it stays open. */
  const escalating = (user: string, overrides: Record<string, unknown> = {}) => ({
    alertId: unique('gen'),
    user,
    host: 'LAPTOP-JD01',
    srcIp: '10.20.30.40',
    destDomain: 'dropbox.com',
    bytesOut: 734003200,
    eventTime: anHourAgo(),
    severity: 'high',
    ruleName: 'Large upload to cloud storage',
    ...overrides,
  });

  test("each SIEM's sample payload, authenticated as that SIEM does, opens a case with the normalized alert", async () => {
    const splunkBody = exampleJson('splunk.json');
    splunkBody.sid = unique('scheduler__admin__search__RMD5');
    splunkBody.result = { ...splunkBody.result, user: unique('splunk-user'), _time: String(Math.floor(Date.now() / 1000) - 600) };
    const s = await splunk(splunkBody);
    assert.equal(s.status, 202);
    assert.deepEqual(s.body, { workflowId: `t1567-002-splunk-${splunkBody.sid}`, duplicate: false, joined: false });
    const splunkRun = await runWith(s.body.workflowId, 'the Splunk case', (r) => r.alert !== undefined);
    assert.equal(splunkRun.alert.source, 'splunk');
    assert.equal(splunkRun.alert.bytesOut, 700_000_000);
    assert.equal(splunkRun.alert.destDomain, 'www.dropbox.com');

    const sentinelBody = exampleJson('sentinel.json');
    sentinelBody.eventUniqueId = unique('evt');
    sentinelBody.object.properties.firstActivityTimeUtc = anHourAgo();
    sentinelBody.object.properties.relatedEntities[0].properties.accountName = unique('sentinel-user');
    const z = await sentinel(sentinelBody);
    assert.equal(z.status, 202);
    assert.equal(z.body.workflowId, `t1567-002-sentinel-${sentinelBody.eventUniqueId}`);
    assert.equal((await runWith(z.body.workflowId, 'the Sentinel case', (r) => r.alert !== undefined)).alert.bytesOut, 734003200);

    // Kibana sends two alerts for one user at two Dropbox hosts: the first opens the case, the second joins it.
    const elasticBody = exampleJson('elastic.json');
    const user = unique('elastic-user');
    for (const alert of elasticBody.alerts) {
      alert['kibana.alert.uuid'] = unique('uuid');
      alert['kibana.alert.original_time'] = anHourAgo();
      if (alert.user) alert.user.name = user;
      else alert['user.name'] = user;
    }
    const e = await elastic(elasticBody);
    assert.equal(e.status, 202);
    const [first, second] = e.body.results ?? [];
    assert.equal(first?.status, 'accepted');
    assert.equal(second?.status, 'joined');
    assert.equal(second?.workflowId, first?.workflowId);
    const elasticRun = await runWith(first?.workflowId ?? '', 'both Elastic alerts in the case', (r) => r.alerts.length === 2);
    assert.deepEqual(
      elasticRun.alerts.map((a) => [a.role, a.alertId, a.bytesOut]),
      [
        ['opened', elasticBody.alerts[0]['kibana.alert.uuid'], 734003200],
        ['joined', elasticBody.alerts[1]['kibana.alert.uuid'], Math.round(1.2 * 2 ** 30)],
      ],
    );

    // Replaying the whole Kibana batch records nothing new.
    const replay = await elastic(elasticBody);
    assert.equal(replay.status, 200);
    assert.deepEqual(
      replay.body.results?.map((r) => r.status),
      ['duplicate', 'duplicate'],
    );
  });

  test('concurrent deliveries of the same alert start one case; every other answer is a duplicate naming it', async () => {
    const alert = escalating(unique('dup-user'));
    const answers = await Promise.all(Array.from({ length: 8 }, () => generic(alert)));
    const workflowId = `t1567-002-generic-${alert.alertId}`;
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 200, 200, 202]);
    for (const a of answers) assert.equal(a.body.workflowId, workflowId);
    assert.equal(answers.filter((a) => a.body.duplicate).length, 7);
    const run = await runWith(workflowId, 'the case', (r) => r.stage === 'awaiting-approval');
    assert.equal(run.alerts.length, 1);
  });

  test('concurrent different alerts for one user and service join one case; replays among them are duplicates', async () => {
    const user = unique('join-user');
    const hosts = ['dropbox.com', 'www.dropbox.com', 'content.dropboxapi.com', 'dl.dropboxusercontent.com', 'dropbox.com'];
    const alerts = hosts.map((destDomain) => escalating(user, { destDomain }));
    // Each alert twice, all at once.
    const answers = await Promise.all([...alerts, ...alerts].map((a) => generic(a)));
    const caseIds = new Set(answers.map((a) => a.body.workflowId));
    assert.equal(caseIds.size, 1, `expected one case, got ${[...caseIds].join(', ')}`);
    const [workflowId] = [...caseIds];
    assert.equal(answers.filter((a) => a.status === 202 && a.body.joined === false).length, 1, 'exactly one opened the case');
    assert.equal(answers.filter((a) => a.status === 202 && a.body.joined === true).length, 4);
    assert.equal(answers.filter((a) => a.status === 200 && a.body.duplicate).length, 5);

    const run = await runWith(workflowId ?? '', 'five alerts in the case', (r) => r.alerts.length === 5);
    assert.deepEqual(run.alerts.map((a) => a.alertId).sort(), alerts.map((a) => a.alertId).sort());
    assert.equal(run.alerts.filter((a) => a.role === 'opened').length, 1);

    // An alert from another SIEM for the same user and service joins too, after the decision: evidence only.
    await runWith(workflowId ?? '', 'the case to await approval', (r) => r.stage === 'awaiting-approval');
    const splunkBody = exampleJson('splunk.json');
    splunkBody.sid = unique('sid');
    splunkBody.result = { ...splunkBody.result, user, _time: String(Math.floor(Date.now() / 1000) - 60) };
    const late = await splunk(splunkBody);
    assert.deepEqual(late.body, { workflowId, duplicate: false, joined: true });
    const after = await runWith(workflowId ?? '', 'the Splunk alert in the case', (r) => r.alerts.length === 6);
    assert.deepEqual(
      after.alerts.filter((a) => a.source === 'splunk').map((a) => [a.role, a.stageOnArrival]),
      [['joined', 'awaiting-approval']],
    );
    // A different destination service for the same user is a different case.
    const other = await generic(escalating(user, { destDomain: 'wetransfer.com' }));
    assert.equal(other.status, 202);
    assert.notEqual(other.body.workflowId, workflowId);
  });

  test('after a case closes a new alert opens a new case, and replays of the old alerts stay duplicates', async () => {
    const user = 'jdoe';
    // Benign (approved SharePoint tenant, 10 MiB, a weekday morning in Berlin): the case closes without approval.
    const benign = (overrides: Record<string, unknown> = {}) =>
      escalating(user, { destDomain: 'acme.sharepoint.com', bytesOut: 10 * 1024 * 1024, eventTime: weekdayMorning(), ...overrides });
    const opener = benign();
    const first = await generic(opener);
    assert.equal(first.status, 202);
    const closed = await runWith(first.body.workflowId, 'the benign case to close', (r) => r.status === 'closed');
    assert.equal(closed.outcome, 'benign');

    const next = benign();
    const second = await generic(next);
    assert.equal(second.status, 202);
    assert.deepEqual(second.body, { workflowId: `t1567-002-generic-${next.alertId}`, duplicate: false, joined: false });

    const replay = await generic(opener);
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, { workflowId: first.body.workflowId, duplicate: true });
  });
});

/** The most recent weekday 10:00 Berlin time (09:00 UTC in winter, 08:00 in summer: 08:30 UTC is inside both). */
function weekdayMorning(): string {
  const d = new Date();
  d.setUTCHours(8, 30, 0, 0);
  if (d.getTime() > Date.now()) d.setUTCDate(d.getUTCDate() - 1);
  // Not a weekend, and not the fixture's holiday (Christmas Day).
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6 || (d.getUTCMonth() === 11 && d.getUTCDate() === 25)) d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString();
}
