/**
 * Records the histories that test/replay/ replays: one benign run, one approved-and-contained run, one denied run,
 * one contained run that held for release, was confirmed and then released, one contained and released run with
 * the state before each change recorded first (patch containment-pre-state), one whose isolation failed and was
 * escalated to Tier 2 (patch tier2-on-containment-failure), the same hold-confirm-release for a
 * subject HR does not know (each decision by two approvers), and one case index (an alert opens an
 * escalated case, a second joins it, a third is a duplicate, the case is denied and a fourth alert opens a new
 * case; then the index sits out its dedup window and ends), the same index fed by signal-with-start (the shipped
 * answer, `ingest.answerWithin` 0), a benign run with the local enrichment steps and fewer stage upserts
 * (patch cheaper-runs), one Standard Webhooks receipt, one escalated run on the day's total (patch volume-day-total)
 * that a second alert joins while it waits for approval, re-binding the request before it is denied, and one approved
 * run whose audit records form the run's own chain (patch audit-run-chain), and three runs under the patch set
 * (workflows/patches.ts: benign, two-approver release, failed containment; a benign and a joined run started with the
 * first stage and uploads memo, as a case index starts them), and three under the second set (benign, joined and
 * denied, approved and contained: the close in one activity), and three under the third (benign and approved with
 * local lookups, benign with ordinary ones). Names given on the command line
 * record only those (`npm run record:histories -- escalated-released`).
 * Run after a release of the playbook (`npm run record:histories`) and commit the files, so every later change to
 * workflow code must still replay the runs that may be in flight (or use patched()).
 */
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import path from 'node:path';
import { exfilToCloudStorage, webhookReceipt } from '../workflows';
import { caseStartOptions } from '../workflows/case-summary';
import type { WorkflowHandle } from '@temporalio/client';
import { addEvidenceSignal, getStateQuery } from '../workflows/messages';
import { confirmContainment, decideApproval, playbookInput, releaseContainment } from '../src/temporal/playbook-runs';
import { alertRouting, caseOf, recordAlert } from '../src/temporal/ingest';
import { CaseKeys, caseIndexIdFor } from '../src/ingest/case-key';
import type { LookupPlacement } from '../src/contracts/playbook';
import { benignAlert, escalatingAlert } from './lib/fixtures';
import { decideWhenAsked, eventually, startServerWithWorker } from './lib/temporal';

const OUT = path.resolve(__dirname, '../test/replay/histories');

async function main() {
  const { env, config, stop } = await startServerWithWorker('record');
  const version = new Date().toISOString().slice(0, 10);

  const only = process.argv.slice(2);
  const save = async (name: string, handle: WorkflowHandle) => {
    const history = await handle.fetchHistory();
    const file = path.join(OUT, `${name}.json`);
    // The same JSON as `temporal workflow show --output json`, which runReplayHistory reads.
    writeFileSync(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
    console.log(`recorded ${file} (${history.events?.length ?? 0} events)`);
  };
  const record = async (
    name: string,
    alert: ReturnType<typeof benignAlert>,
    decide?: 'approve' | 'deny',
    hold?: (handle: WorkflowHandle) => Promise<void>,
    containment: Partial<ReturnType<typeof playbookInput>['policy']['containment']> = {},
    /** Started as every path that opens a case starts a run (caseStartOptions: first stage and uploads memo). */
    caseStart = false,
    /** Where the run's lookups run, instead of where this configuration (every source a file) places them. */
    lookups?: LookupPlacement,
  ) => {
    if (only.length > 0 && !only.includes(name)) return;
    const input = playbookInput(config, alert);
    if (lookups) input.policy.lookups = lookups;
    if (hold) input.policy.containment = { ...input.policy.containment, releaseWindowMs: 3_600_000, leaseMs: 1_800_000 };
    input.policy.containment = { ...input.policy.containment, ...containment };
    const handle = await env.client.workflow.start(exfilToCloudStorage, {
      ...(caseStart ? caseStartOptions(input.alert) : {}),
      taskQueue: config.temporal.taskQueue,
      workflowId: `${name}-${version}`,
      args: [input],
    });
    if (decide) await decideWhenAsked(env.client, handle, decide);
    if (hold) await hold(handle);
    await handle.result();
    await save(name, handle);
  };

  /** An escalated run started as a case index starts it, that a second alert joins while it waits; then denied. */
  const recordJoinedCaseStart = (name: string) =>
    record(
      name,
      escalatingAlert(),
      undefined,
      async (handle) => {
        await eventually(
          async () => ((await handle.query(getStateQuery)).approval.notifiedVia !== null ? true : null),
          30_000,
          'the request',
        );
        await handle.signal(addEvidenceSignal, escalatingAlert({ alertId: `${name}-${version}-joined` }));
        await eventually(async () => ((await handle.query(getStateQuery)).alerts.length === 2 ? true : null), 30_000, 'the join');
        await decideApproval(env.client, handle.workflowId, { decision: 'deny', approver: 'alice', via: 'cli' });
      },
      {},
      true,
    );

  /** A case index, with a dedup window short enough for it to end while we wait. */
  const recordCaseIndex = async (name: string) => {
    if (only.length > 0 && !only.includes(name)) return;
    const indexConfig = { ...config, ingest: { ...config.ingest, dedupWindow: 4_000 } };
    const caseKeys = new CaseKeys(null);
    const alert = (n: number) => escalatingAlert({ alertId: `${name}-${version}-${n}` });
    const deny = async (workflowId: string) => {
      const run = env.client.workflow.getHandle(workflowId);
      await eventually(async () => (await run.query(getStateQuery)).approval.notifiedVia !== null, 30_000, 'the approval request');
      await decideApproval(env.client, workflowId, { decision: 'deny', approver: 'alice', via: 'cli' });
      await run.result();
    };
    const first = caseOf(await recordAlert(env.client, indexConfig, caseKeys, alert(1)));
    await recordAlert(env.client, indexConfig, caseKeys, alert(2));
    await recordAlert(env.client, indexConfig, caseKeys, alert(1));
    await deny(first.workflowId);
    await deny(caseOf(await recordAlert(env.client, indexConfig, caseKeys, alert(4))).workflowId);
    const index = env.client.workflow.getHandle(caseIndexIdFor(await caseKeys.of(alert(1))));
    await index.result();
    await save(name, index);
  };

  /** The same case index fed by signal-with-start (the shipped answer): each alert's case read back by the query. */
  const recordSignalledCaseIndex = async (name: string) => {
    if (only.length > 0 && !only.includes(name)) return;
    const indexConfig = { ...config, ingest: { ...config.ingest, dedupWindow: 4_000, answerWithin: 0 } };
    const caseKeys = new CaseKeys(null);
    const alert = (n: number) => escalatingAlert({ alertId: `${name}-${version}-${n}` });
    const indexId = caseIndexIdFor(await caseKeys.of(alert(1)));
    const caseOfAlert = (n: number) =>
      eventually(async () => (await alertRouting(env.client, indexId, alert(n)))?.workflowId, 30_000, `the routing of alert ${n}`);
    const deny = async (workflowId: string) => {
      const run = env.client.workflow.getHandle(workflowId);
      await eventually(async () => (await run.query(getStateQuery)).approval.notifiedVia !== null, 30_000, 'the approval request');
      await decideApproval(env.client, workflowId, { decision: 'deny', approver: 'alice', via: 'cli' });
      await run.result();
    };
    await recordAlert(env.client, indexConfig, caseKeys, alert(1));
    await recordAlert(env.client, indexConfig, caseKeys, alert(2));
    await recordAlert(env.client, indexConfig, caseKeys, alert(1));
    await caseOfAlert(2);
    await deny(await caseOfAlert(1));
    await recordAlert(env.client, indexConfig, caseKeys, alert(4));
    await deny(await caseOfAlert(4));
    const index = env.client.workflow.getHandle(indexId);
    await index.result();
    await save(name, index);
  };

  /** A Standard Webhooks receipt (src/temporal/webhook-receipts.ts), with a start delay short enough to wait out. */
  const recordWebhookReceipt = async (name: string) => {
    if (only.length > 0 && !only.includes(name)) return;
    const handle = await env.client.workflow.start(webhookReceipt, {
      taskQueue: config.temporal.taskQueue,
      workflowId: `${name}-${version}`,
      memo: { bodySha256: '0'.repeat(64), workflowId: 't1567-002-generic-example' },
      startDelay: 1_000,
    });
    await handle.result();
    await save(name, handle);
  };

  await record('benign', benignAlert());
  await record('escalated-approved', escalatingAlert(), 'approve');
  await record('escalated-denied', escalatingAlert(), 'deny');
  await record('escalated-released', escalatingAlert(), 'approve', async (handle) => {
    await eventually(async () => (await handle.query(getStateQuery)).stage === 'contained', 30_000, 'the hold');
    await confirmContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli' });
    await releaseContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli', comment: 'false positive' });
  });
  // The two-step containment (patch containment-pre-state): each change preceded by the activity recording the state.
  await record('escalated-released-pre-state', escalatingAlert(), 'approve', async (handle) => {
    await eventually(async () => (await handle.query(getStateQuery)).stage === 'contained', 30_000, 'the hold');
    await releaseContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli', comment: 'false positive' });
  });
  // The subject unknown to HR: every decision needs two approvers (patched: unknown-manager-needs-two-approvers,
  // unknown-manager-review-needs-two), so the approval, the confirmation and the release each take two people.
  const twoApproversRelease = async (handle: WorkflowHandle) => {
    await decideApproval(env.client, handle.workflowId, { decision: 'approve', approver: 'bob', via: 'cli' });
    await eventually(async () => (await handle.query(getStateQuery)).stage === 'contained', 30_000, 'the hold');
    await confirmContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli' });
    await confirmContainment(env.client, handle.workflowId, { approver: 'alice', via: 'cli' });
    await releaseContainment(env.client, handle.workflowId, { approver: 'alice', via: 'cli' });
    await releaseContainment(env.client, handle.workflowId, { approver: 'bob', via: 'cli', comment: 'false positive' });
  };
  await record('unknown-manager-released', escalatingAlert({ user: 'nohr.user' }), 'approve', twoApproversRelease);
  // Volume rule /2 (patch volume-day-total): the baseline after HR's time zone, the uploads memo, and a join that
  // re-binds the pending request (a new digest) before the denial.
  await record('day-total-rebound', escalatingAlert(), undefined, async (handle) => {
    const pending = async () => (await handle.query(getStateQuery)).approval;
    await eventually(async () => ((await pending()).notifiedVia !== null ? true : null), 30_000, 'the approval request');
    const before = (await pending()).digest;
    await handle.signal(
      addEvidenceSignal,
      escalatingAlert({ alertId: `day-total-rebound-${version}-joined`, bytesOut: 300 * 1024 * 1024 }),
    );
    await eventually(async () => ((await pending()).digest !== before ? true : null), 30_000, 'the re-bound request');
    await decideApproval(env.client, handle.workflowId, { decision: 'deny', approver: 'alice', via: 'cli' });
  });
  // A failed containment action escalated to Tier 2 (patch tier2-on-containment-failure): the isolation provider the
  // run names is not configured on this worker, so it fails at once (not retried); the revocation is a dry run.
  await record('escalated-containment-failed', escalatingAlert(), 'approve', undefined, { isolationProvider: 'crowdstrike' });
  // Each audit record carries the run's previous record's hash (patch audit-run-chain): one chain per run across hosts.
  await record('audit-run-chain', escalatingAlert(), 'approve');
  await record('benign-local-enrichment', benignAlert());
  // The patch set (workflows/patches.ts, patch playbook-2026-12): one marker for every earlier patch. A benign run,
  // the two-approver hold and release (day totals, pre-state, both unknown-manager patches, the run's audit chain),
  // and a failed containment escalated to Tier 2.
  await record('patch-set-benign', benignAlert());
  await record('patch-set-unknown-manager-released', escalatingAlert({ user: 'nohr.user' }), 'approve', twoApproversRelease);
  await record('patch-set-containment-failed', escalatingAlert(), 'approve', undefined, { isolationProvider: 'crowdstrike' });
  // Started with caseStartOptions, as a case index starts a run: the first stage and the uploads memo come with the
  // start, and the run does not write them again (a benign run, and an escalated one that a second alert joins).
  await record('patch-set-benign-case-start', benignAlert(), undefined, undefined, {}, true);
  await recordJoinedCaseStart('patch-set-joined-case-start');
  // The second patch set (patch playbook-2026-12b): the close in one activity (the decision's record, the report, the
  // close's record). A benign run (its decision's record goes with the close), an escalated one a second alert joins and
  // that is denied, and an approved one that contains, each started as a case index starts them.
  await record('patch-set-2-benign-case-start', benignAlert(), undefined, undefined, {}, true);
  await recordJoinedCaseStart('patch-set-2-joined-case-start');
  await record('patch-set-2-approved-case-start', escalatingAlert(), 'approve', undefined, {}, true);
  // The third set (patch playbook-2026-12c): each lookup where the run's policy places it. With every source a file,
  // the four lookups are local activities (a benign run, an approved one that contains); a run whose sources are all
  // vendors' schedules them as ordinary activities.
  await record('patch-set-3-benign-case-start', benignAlert(), undefined, undefined, {}, true);
  await record('patch-set-3-approved-case-start', escalatingAlert(), 'approve', undefined, {}, true);
  const vendors = { hr: 'activity', changes: 'activity', devices: 'activity', baselines: 'activity' } as const;
  await record('patch-set-3-benign-vendor-lookups', benignAlert(), undefined, undefined, {}, true, vendors);
  await recordCaseIndex('case-index');
  await recordSignalledCaseIndex('case-index-signalled');
  // Patch case-start-by-activity: the index starts each case by a local activity (no child events), and at the end
  // of its quiet window asks whether its case still runs before it ends; by update, then by signal.
  await recordCaseIndex('case-index-by-activity');
  await recordSignalledCaseIndex('case-index-by-activity-signalled');
  await recordWebhookReceipt('webhook-receipt');
  await stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
