/**
 * The bare baseline's worker, in its own process (like the product's `npm start`), with the SDK's default tuning on
 * its own task queue: `node --import ./src/typescript-loader.mjs scripts/bench/bare-worker.ts <address> <namespace> <taskQueue>`. Prints
 * READY once polling; SIGTERM/SIGINT shut it down (the SDK's runtime handles them). The SDK's own log lines go to
 * stderr, where the bench counts workflow-task warnings (TMPRL1104).
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createBareActivities } from './bare-activities';

async function main(): Promise<void> {
  const [address, namespace, taskQueue] = process.argv.slice(2);
  if (!address || !namespace || !taskQueue) throw new Error('usage: bare-worker.ts <address> <namespace> <taskQueue>');
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) =>
      process.stderr.write(`${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {})}\n`),
    ),
  });
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowsPath: require.resolve('./bare-workflow'),
      activities: createBareActivities(),
    });
    const running = worker.run();
    process.stdout.write('READY\n');
    await running;
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
