/**
 * What the IR team sees in Temporal, on a real dev server with the real worker: search attributes that follow the
 * run (and the visibility query that lists what waits on a human), the case line in the summary and current
 * details, the audit records of the run, encrypted payloads in the stored history, and replay of that history.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { verifyAuditFile } from '../../src/audit/audit-log';
import { parseConfig, type Config } from '../../src/config';
import type { RunState } from '../../src/contracts/playbook';
import { SA } from '../../src/contracts/search-attributes';
import { createLogger } from '../../src/logger';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, parseKey } from '../../src/temporal/payload-codec';
import { decideApproval } from '../../src/temporal/playbook-runs';
import { caseOf, recordAlert } from '../../src/temporal/ingest';
import { CaseKeys } from '../../src/ingest/case-key';
import { historyToJson } from '../../src/temporal/history-json';
import { replayHistoryFile } from '../../src/temporal/replay';
import { listRuns, runListQuery } from '../../src/temporal/run-list';
import { createWorker } from '../../src/worker';
import { createActivityDeps } from '../../src/wiring';
import { getStateQuery } from '../../workflows/messages';
import { escalatingAlert, rawTestConfig, TEST_PAYLOAD_KEY, testConfig, tempDir, unique } from '../helpers/fixtures';
import { eventually, startTestServer, workflowBundle } from '../helpers/temporal';

const silent = createLogger({ level: 'silent' });
const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

interface RawPayload {
  metadata?: Record<string, Uint8Array>;
  data?: Uint8Array;
}

/**
 * Every payload anywhere in a history (inputs, results, summaries, details...), except search attributes: Temporal
 * indexes those in plain text by design (see docs/operations/observability.md), and they carry identifiers, never HR data.
 */
function payloadsIn(value: unknown, at = '', out: { at: string; payload: RawPayload }[] = []): { at: string; payload: RawPayload }[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return out;
  const v = value as Record<string, unknown>;
  if (v.data instanceof Uint8Array && v.metadata && typeof v.metadata === 'object') out.push({ at, payload: v });
  for (const [key, child] of Object.entries(v)) if (key !== 'searchAttributes') payloadsIn(child, `${at}.${key}`, out);
  return out;
}

describe('the Temporal UI as a case view', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let config: Config;
  let configFile: string;
  const cli = async (...args: string[]) => {
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
  };

  before(async () => {
    env = await startTestServer();
    const raw = rawTestConfig({ address: env.address, taskQueue: unique('case-view') });
    config = parseConfig(raw, {});
    configFile = path.join(tempDir('soar-case-view-'), 'soar.yaml');
    writeFileSync(configFile, stringify(raw));
    worker = await createWorker({
      config,
      connection: env.nativeConnection,
      deps: createActivityDeps(config, silent),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  const searchAttributes = async (handle: WorkflowHandle) => (await handle.describe()).typedSearchAttributes;
  const currentDetails = async (handle: WorkflowHandle) =>
    ((await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails ?? '').trim();

  test('an escalated run is listed by Decision and ApprovalState, follows the run, and reads as a case', async () => {
    const alert = escalatingAlert();
    // Recorded the way the webhook records it: through the alert's case index.
    const { workflowId } = caseOf(await recordAlert(env.client, config, new CaseKeys(null), alert));
    const handle = env.client.workflow.getHandle(workflowId);
    await eventually(async () => (await handle.query(getStateQuery)).approval.status === 'pending', 20_000, 'a pending approval');

    const query = `Decision = "escalate" AND ApprovalState = "pending" AND AlertId = "${alert.alertId}"`;
    const listed = await eventually(
      async () => {
        const runs = await listRuns(env.client, query);
        return runs.length === 1 ? runs : null;
      },
      20_000,
      'the run in the visibility list',
    );
    assert.deepEqual(
      { ...listed[0], startTime: undefined },
      {
        workflowId,
        status: 'RUNNING',
        startTime: undefined,
        decision: 'escalate',
        approval: 'pending',
        containment: null,
        stage: 'awaiting-approval',
        user: 'jdoe',
        host: 'LAPTOP-JD01',
        destDomain: 'dropbox.com',
        bytesOut: 700 * 1024 * 1024,
      },
    );
    assert.ok(
      (await listRuns(env.client, `${runListQuery({ decision: 'escalate', approval: 'pending', user: 'jdoe' })}`)).some(
        (r) => r.workflowId === workflowId,
      ),
    );

    const description = await handle.describe();
    assert.equal(await description.staticSummary(), 'jdoe uploaded 700.0 MiB to dropbox.com from LAPTOP-JD01 at 2026-11-28 01:14 UTC');
    assert.match(
      (await description.staticDetails()) ?? '',
      new RegExp(`Alert ${alert.alertId} from generic, rule "Large upload to cloud storage", severity high`),
    );
    const sa = description.typedSearchAttributes;
    assert.equal(sa.get(SA.severity), 'high');
    assert.equal(sa.get(SA.alertSource), 'generic');
    const details = await eventually(async () =>
      (await currentDetails(handle)).includes('Approval: pending') ? currentDetails(handle) : null,
    );
    assert.equal(
      details,
      'jdoe uploaded 700.0 MiB to dropbox.com from LAPTOP-JD01 at 02:14 local, escalated: 340.0 sigma, off-hours\n\n' +
        `Stage: awaiting-approval · Approval: pending until ${((await handle.query(getStateQuery)).approval.expiresAt ?? '').slice(0, 16).replace('T', ' ')} UTC`,
    );

    await decideApproval(env.client, workflowId, { decision: 'approve', approver: 'alice', via: 'cli', comment: 'confirmed' });
    const final = (await handle.result()) as RunState;
    assert.equal(final.outcome, 'containment-simulated');
    const closed = await searchAttributes(handle);
    assert.equal(closed.get(SA.approvalState), 'approved');
    assert.equal(closed.get(SA.containmentState), 'simulated');
    assert.equal(closed.get(SA.playbookStage), 'closed');
    assert.match(
      await currentDetails(handle),
      / · Approval: approved by alice · Containment: revoke-cloud-storage-access simulated, isolate-endpoint simulated · Outcome: containment-simulated$/,
    );

    // The audit trail holds the decision, the approval, both actions and the close, chained.
    const records = readFileSync(config.audit.file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; actor: string; workflowId: string; data: Record<string, unknown> })
      .filter((r) => r.workflowId === workflowId);
    assert.deepEqual(
      records.map((r) => [r.type, r.actor, r.data.outcome ?? r.data.status]),
      [
        ['decision', 'playbook', 'escalate'],
        ['approval', 'alice', 'approved'],
        ['containment', 'playbook', 'simulated'],
        ['containment', 'playbook', 'simulated'],
        ['run-closed', 'playbook', 'containment-simulated'],
      ],
    );
    assert.equal((await verifyAuditFile(config.audit.file)).ok, true);

    // The report answers the seed's questions and lists what remains for Tier 2.
    assert.match(
      final.report?.markdown ?? '',
      /### Questions for analysis\n- Legitimate business need\? .+\n- Device authorized\? .+\n- Volume atypical\? .+\n- Recent policy changes\? /,
    );
    assert.equal(final.report?.remainingT2Actions.length, 4);

    // The stored history: no personal data in plain text, every payload encrypted with the configured key.
    const raw = new Client({ connection: env.connection, namespace: 'default' });
    const history = await raw.workflow.getHandle(workflowId).fetchHistory();
    const bytes = Buffer.from(historyToJson(history), 'utf8');
    // A patched() marker's details are written by the SDK core, not the data converter: the patch's name in plain
    // JSON, no case data. Checked to be exactly that, then left out.
    const isPatchMarker = (at: string) => /markerRecordedEventAttributes\.details\.patch-data\./.test(at);
    for (const { at, payload } of payloadsIn(history).filter((f) => isPatchMarker(f.at))) {
      const marker = JSON.parse(Buffer.from(payload.data ?? []).toString()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(marker).sort(), ['deprecated', 'id'], `patch marker at ${at}: ${JSON.stringify(marker)}`);
      assert.match(String(marker.id), /^[a-z0-9-]+$/, `patch marker at ${at}`);
    }
    // A local activity's marker (patch cheaper-runs) holds the SDK core's bookkeeping in `data` (sequence, attempt,
    // activity ID and type, times), not the data converter's: checked to be exactly that, then left out. Its
    // `result` is the activity's result, encrypted like every other payload (checked below).
    const isLocalActivityData = (at: string) => /markerRecordedEventAttributes\.details\.data\./.test(at);
    const coreKeys = ['seq', 'attempt', 'activity_id', 'activity_type', 'complete_time', 'backoff', 'original_schedule_time'];
    const localData = payloadsIn(history).filter((f) => isLocalActivityData(f.at));
    assert.ok(localData.length > 0, 'the run has local activity markers (patch cheaper-runs)');
    for (const { at, payload } of localData) {
      const marker = JSON.parse(Buffer.from(payload.data ?? []).toString()) as Record<string, unknown>;
      for (const key of Object.keys(marker)) assert.ok(coreKeys.includes(key), `local activity marker at ${at}: key ${key}`);
      // The domain check and business hours (patch cheaper-runs), and the lookups of the file sources (patch set
      // playbook-2026-12c: this configuration reads every source from files).
      const local = ['checkDestinationDomain', 'evaluateBusinessHours', 'lookupHrAuthorization', 'findCloudStoragePolicyChanges'];
      local.push('checkDeviceAuthorization', 'getUploadBaseline');
      assert.ok(local.includes(String(marker.activity_type)), `at ${at}`);
    }
    const found = payloadsIn(history).filter((f) => !isPatchMarker(f.at) && !isLocalActivityData(f.at));
    const payloads = found.map((f) => f.payload);
    assert.ok(payloads.length > 20, `expected many payloads, found ${payloads.length}`);
    for (const { at, payload } of found) {
      assert.equal(Buffer.from(payload.metadata?.encoding ?? []).toString(), ENCRYPTED_ENCODING, `payload at ${at}`);
      assert.equal(Buffer.from(payload.metadata?.['encryption-key-id'] ?? []).toString(), TEST_PAYLOAD_KEY.id);
    }
    const codec = new AesGcmPayloadCodec([parseKey(TEST_PAYLOAD_KEY.id, TEST_PAYLOAD_KEY.key)]);
    const decoded = Buffer.concat((await codec.decode(payloads as never)).map((p) => Buffer.from(p.data ?? [])));
    const jsonHistory = JSON.stringify(history, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
    for (const secret of ['Jane Doe', 'Financial Analyst', 'Finance', 'mmanager', 'Europe/Berlin', '10.20.30.40']) {
      assert.ok(decoded.includes(secret), `positive control: "${secret}" is in the decrypted payloads`);
      assert.ok(!bytes.includes(secret) && !jsonHistory.includes(secret), `"${secret}" must not be stored in plain text`);
    }

    // The history replays against the current code, decrypted with the configured keys; a wrong key fails closed.
    const file = path.join(tempDir('soar-history-'), `${workflowId}.json`);
    writeFileSync(file, historyToJson(history));
    const progress: string[] = [];
    const replayed = await replayHistoryFile(file, config, (l) => progress.push(l), await workflowBundle());
    assert.equal(replayed.workflowId, workflowId);
    assert.match(progress.at(-1) ?? '', /^Replayed \d+ events in \d+ ms: the current workflow code reproduces this history$/);

    // The same through the CLI: list by search attributes, export the history, replay it.
    const listed2 = await cli('list', '--decision', 'escalate', '--user', 'jdoe', '--status', 'closed', '--limit', '1000');
    assert.equal(listed2.code, 0, listed2.stderr);
    assert.match(
      listed2.stderr,
      /^Listing cases where WorkflowType = "exfilToCloudStorage" AND Decision = "escalate" AND AlertUser = "jdoe" AND ExecutionStatus != "Running"$/m,
    );
    assert.match(
      listed2.stdout,
      new RegExp(
        `^${workflowId}\\s+COMPLETED\\s+\\S+ \\S+\\s+escalate\\s+approved\\s+simulated\\s+closed\\s+jdoe\\s+LAPTOP-JD01\\s+dropbox.com$`,
        'm',
      ),
    );
    const exported = path.join(tempDir('soar-history-'), 'exported.json');
    const history2 = await cli('history', workflowId, '--out', exported);
    assert.equal(history2.code, 0, history2.stderr);
    const replayCli = await cli('replay', exported);
    assert.equal(replayCli.code, 0, replayCli.stderr);
    assert.match(replayCli.stderr, /Bundling the workflows[\s\S]*Replaying \d+ events[\s\S]*Replayed \d+ events in \d+ ms/);
    const wrongKey = testConfig({ extra: {} });
    wrongKey.temporal.payloadCodec.keys = [{ id: 'other', key: Buffer.alloc(32, 9).toString('base64') }];
    await assert.rejects(
      replayHistoryFile(file, wrongKey, () => undefined, await workflowBundle()),
      /payload encrypted with unknown key \\"test-key-1\\"/,
    );
  });
});
