/**
 * Records the histories that test/replay/ replays: one benign run, one approved-and-contained run, one denied run.
 * Run after a release of the playbook (`npm run record:histories`) and commit the files, so every later change to
 * workflow code must still replay the runs that may be in flight (or use patched()).
 */
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import path from 'node:path';
import { exfilToCloudStorage } from '../workflows';
import { playbookInput } from '../src/temporal/playbook-runs';
import { benignAlert, escalatingAlert } from '../test/helpers/fixtures';
import { decideWhenAsked, startServerWithWorker } from '../test/helpers/temporal';

const OUT = path.resolve(__dirname, '../test/replay/histories');

async function main() {
  const { env, config, stop } = await startServerWithWorker('record');
  const version = new Date().toISOString().slice(0, 10);

  const record = async (name: string, alert: ReturnType<typeof benignAlert>, decide?: 'approve' | 'deny') => {
    const handle = await env.client.workflow.start(exfilToCloudStorage, {
      taskQueue: config.temporal.taskQueue,
      workflowId: `${name}-${version}`,
      args: [playbookInput(config, alert)],
    });
    if (decide) await decideWhenAsked(env.client, handle, decide);
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
  await stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
