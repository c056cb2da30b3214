/**
 * The embedded dev server writes each task queue's new tasks to one partition and still reads four. With four
 * written (the CLI's default) the last tasks of a backlog sat in partitions where no poll was waiting while the ingest
 * worker's one task-queue poller waited in an empty one, and the tail of a routing backlog came out in gaps of a
 * second or more (docs/operations/dev-server.md). Reads stay at four, and a file written by a server with four
 * partitions (an older release of this app) still has every task polled.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startDevServer } from '../../src/temporal/dev-server';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import { embeddedDevServerConfig } from '../helpers/dev-server';
import { captureLogs } from '../helpers/logs';

const { TaskQueueKind, TaskQueueType } = temporal.api.enums.v1;
const PARTITIONS = 4;
const TASK_QUEUE = 'soar-partitions-test';
const NEW_TASK_QUEUE = 'soar-partitions-test-new';

/** Each partition's backlog of workflow tasks, as the server reports it (partition 0 is the queue's own name). */
async function backlogs(connection: Connection, namespace: string, taskQueue: string): Promise<number[]> {
  const counts: number[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const { taskQueueStatus } = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: p === 0 ? taskQueue : `/_sys/${taskQueue}/${p}`, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      includeTaskQueueStatus: true,
    });
    counts.push(Number(taskQueueStatus?.backlogCountHint ?? 0));
  }
  return counts;
}

/** Backlogs once their total is `total` (the server counts a task shortly after it is written), or the last read. */
async function settledBacklogs(connection: Connection, namespace: string, taskQueue: string, total: number): Promise<number[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const counts = await backlogs(connection, namespace, taskQueue);
    if (counts.reduce((a, b) => a + b, 0) === total || Date.now() > deadline) return counts;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the embedded dev server and task-queue partitions', () => {
  test('new tasks go to one partition; tasks an older server left in the others are still polled', async () => {
    const cli = await resolveTemporalCli();
    assert.ok(cli, 'the Temporal CLI (npm run temporal:cli)');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soar-devserver-partitions-'));
    const config = await embeddedDevServerConfig(dir);
    const { logger } = captureLogs();
    const startRuns = async (taskQueue: string, prefix: string, count: number) => {
      const connection = await Connection.connect({ address: config.address });
      try {
        const client = new Client({ connection, namespace: config.namespace });
        // No worker polls this queue: each run's first workflow task stays in the backlog of the partition it went to.
        for (let i = 0; i < count; i++) await client.workflow.start('noWorkerRunsThis', { taskQueue, workflowId: `${prefix}-${i}` });
      } finally {
        await connection.close();
      }
    };

    // An older release's server on the same file: the CLI's default of four written partitions (a later flag wins).
    const older = await startDevServer(config, cli.path, logger, {
      extraArgs: ['--dynamic-config-value', `matching.numTaskqueueWritePartitions=${PARTITIONS}`],
    });
    const oldRuns = 40;
    try {
      await startRuns(TASK_QUEUE, 'old', oldRuns);
      const connection = await Connection.connect({ address: config.address });
      try {
        const spread = await settledBacklogs(connection, config.namespace, TASK_QUEUE, oldRuns);
        assert.ok(
          spread.slice(1).some((n) => n > 0),
          `four written partitions spread the tasks: ${spread.join(' ')}`,
        );
      } finally {
        await connection.close();
      }
    } finally {
      await older.stop();
    }

    // This release's server on that file.
    const server = await startDevServer(config, cli.path, logger);
    const connection = await Connection.connect({ address: config.address });
    try {
      // No run is left behind by the change: polls of the queue (as a worker's) get each old run's first task, before
      // anything else loads a partition (describing one does). A task handed out and not completed goes back after
      // its timeout; the distinct runs are what count. (On this server, 1.29.1, they were handed out with the reads
      // lowered to one as well: this checks the upgrade, it does not tell the read count.)
      const seen = new Set<string>();
      const deadline = Date.now() + 60_000;
      while (seen.size < oldRuns && Date.now() < deadline) {
        const task = await connection
          .withDeadline(Date.now() + 10_000, () =>
            connection.workflowService.pollWorkflowTaskQueue({
              namespace: config.namespace,
              taskQueue: { name: TASK_QUEUE, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
              identity: 'partitions-test',
            }),
          )
          .catch(() => null);
        const id = task?.workflowExecution?.workflowId;
        if (id) seen.add(id);
      }
      assert.equal(seen.size, oldRuns, `runs of the older server whose first task a poll got: ${seen.size} of ${oldRuns}`);

      // New tasks, on a queue of their own: all in its first partition.
      const newRuns = 20;
      await startRuns(NEW_TASK_QUEUE, 'new', newRuns);
      const counts = await settledBacklogs(connection, config.namespace, NEW_TASK_QUEUE, newRuns);
      assert.deepEqual(counts, [newRuns, 0, 0, 0], `backlog by partition: ${counts.join(' ')}`);
    } finally {
      await connection.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
