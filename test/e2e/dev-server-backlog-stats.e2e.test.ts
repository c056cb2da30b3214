/**
 * The burst pacing reads the case indexes' backlog once a second (src/temporal/burst-pacer.ts) with a task-queue
 * describe that asks for stats. The server keeps that answer for `matching.TaskQueueInfoByBuildIdTTL`, 5 s by default:
 * a backlog read once a second was up to 5 s old, and the pacing of a 20 alerts/s burst engaged about 6 s in whatever
 * the read rate. The embedded dev server keeps it for half a second; this checks that a backlog that grows shows in
 * the next read, not 5 s later.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startDevServer } from '../../src/temporal/dev-server';
import { describeWorkflowQueue } from '../../src/temporal/poll-watch';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import { embeddedDevServerConfig } from '../helpers/dev-server';
import { captureLogs } from '../helpers/logs';

const TASK_QUEUE = 'soar-backlog-stats-test';

describe('the embedded dev server and task-queue stats', () => {
  test("a growing backlog shows in the next second's read, not after the server's 5 s cache", async () => {
    const cli = await resolveTemporalCli();
    assert.ok(cli, 'the Temporal CLI (npm run temporal:cli)');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soar-devserver-stats-'));
    const config = await embeddedDevServerConfig(dir);
    const { logger } = captureLogs();
    const server = await startDevServer(config, cli.path, logger);
    const connection = await Connection.connect({ address: config.address });
    const native = await NativeConnection.connect({ address: config.address });
    try {
      const client = new Client({ connection, namespace: config.namespace });
      const describeQueue = describeWorkflowQueue(native, config.namespace);
      const backlog = async () => (await describeQueue(TASK_QUEUE)).backlog?.count ?? 0;
      // No worker polls this queue: each run's first workflow task stays in its backlog.
      const start = async (prefix: string, count: number) => {
        for (let i = 0; i < count; i++)
          await client.workflow.start('noWorkerRunsThis', { taskQueue: TASK_QUEUE, workflowId: `${prefix}-${i}` });
      };
      const readUntil = async (count: number, limitMs: number) => {
        const deadline = Date.now() + limitMs;
        let last = await backlog();
        while (last < count && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          last = await backlog();
        }
        return last;
      };

      await start('first', 10);
      assert.equal(await readUntil(10, 15_000), 10, 'the first 10 runs counted in the backlog');
      // That read is what the server keeps; 10 more runs now, and the time until a read shows them.
      const readAt = Date.now();
      await start('second', 10);
      const seen = await readUntil(20, 10_000);
      const waitedMs = Date.now() - readAt;
      assert.equal(seen, 20, 'the second 10 runs counted in the backlog');
      // Kept for 5 s, the read would show 10 until 5 s after `readAt`; kept for half a second, well before.
      assert.ok(waitedMs < 3_000, `the backlog of 20 showed ${waitedMs} ms after the read of 10 (the server's default keeps stats 5 s)`);
    } finally {
      await native.close();
      await connection.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
