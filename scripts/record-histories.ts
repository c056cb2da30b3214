/**
 * Records the histories that test/replay/ replays: one benign run, one approved-and-contained run, one denied run.
 * Run after a release of the playbook (`npm run record:histories`) and commit the files, so every later change to
 * workflow code must still replay the runs that may be in flight (or use patched()).
 */
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import path from 'node:path';
import { exfilToCloudStorage } from '../workflows';
import { getStateQuery } from '../workflows/messages';
import { createLogger } from '../src/logger';
import { decideApproval, playbookInput } from '../src/temporal/playbook-runs';
import { createActivityDeps, createWorker } from '../src/worker';
import { benignAlert, escalatingAlert, testConfig, unique } from '../test/helpers/fixtures';
import { startTestServer, workflowBundle } from '../test/helpers/temporal';

const OUT = path.resolve(__dirname, '../test/replay/histories');

async function main() {
  const env = await startTestServer();
  const config = testConfig({ taskQueue: unique('record') });
  const worker = await createWorker({
    config,
    connection: env.nativeConnection,
    deps: createActivityDeps(config, createLogger({ level: 'silent' })),
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  const version = new Date().toISOString().slice(0, 10);

  const record = async (name: string, alert: ReturnType<typeof benignAlert>, decide?: 'approve' | 'deny') => {
    const handle = await env.client.workflow.start(exfilToCloudStorage, {
      taskQueue: config.temporal.taskQueue,
      workflowId: `${name}-${version}`,
      args: [playbookInput(config, alert)],
    });
    if (decide) {
      for (;;) {
        const state = await handle.query(getStateQuery);
        if (state.approval.notifiedVia !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await decideApproval(env.client, handle.workflowId, { decision: decide, approver: 'alice', via: 'cli' });
    }
    await handle.result();
    const history = await handle.fetchHistory();
    const file = path.join(OUT, `${name}.json`);
    // The same JSON as `temporal workflow show --output json`, which runReplayHistory reads.
    writeFileSync(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
    console.log(`recorded ${file} (${history.events?.length ?? 0} events)`);
  };

  await record('benign', benignAlert());
  await record('escalated-approved', escalatingAlert(), 'approve');
  await record('escalated-denied', escalatingAlert(), 'deny');
  worker.shutdown();
  await running;
  await env.teardown();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
