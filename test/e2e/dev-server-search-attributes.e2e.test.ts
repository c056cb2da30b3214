/**
 * The embedded dev server reads the search-attribute definitions from its cache, as a cluster does. The Temporal
 * CLI's default re-reads them and the namespace from the database on every use, under one lock: in a storm that was
 * a third of the server's database requests (`GetCurrentClusterMetadata`, `GetNamespace`). The worker's attributes
 * are registered with the namespace, so runs started at once find them all the same.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { SA } from '../../src/contracts/search-attributes';
import { startDevServer } from '../../src/temporal/dev-server';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import { embeddedDevServerConfig } from '../helpers/dev-server';
import { captureLogs } from '../helpers/logs';
import { freePort } from '../helpers/net';

/**
 * The server's database reads of search-attribute definitions and namespaces, by its Prometheus counters. The server
 * publishes its counters every second or so: read after a pause, so the count includes what came before the call.
 */
async function definitionReads(metricsUrl: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 2500));
  const text = await (await fetch(metricsUrl)).text();
  let reads = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('persistence_requests{')) continue;
    if (!/operation="(GetCurrentClusterMetadata|GetNamespace)"/.test(line)) continue;
    reads += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return reads;
}

describe('the embedded dev server and search attributes', () => {
  test('runs started with every attribute set: found by them, without re-reading the definitions per run', async () => {
    const cli = await resolveTemporalCli();
    assert.ok(cli, 'the Temporal CLI (npm run temporal:cli)');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soar-devserver-sa-'));
    const config = await embeddedDevServerConfig(dir);
    const metricsPort = await freePort();
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const { logger } = captureLogs();
    const server = await startDevServer(config, cli.path, logger, { extraArgs: ['--metrics-port', String(metricsPort)] });
    const connection = await Connection.connect({ address: config.address });
    try {
      const client = new Client({ connection, namespace: config.namespace });
      const start = (i: number) =>
        client.workflow.start('noWorkerRunsThis', {
          taskQueue: 'soar-sa-cache-test',
          workflowId: `sa-cache-${i}`,
          typedSearchAttributes: [
            { key: SA.alertSource, value: 'generic' },
            { key: SA.alertId, value: `a-${i}` },
            { key: SA.alertUser, value: 'jdoe' },
            { key: SA.playbookStage, value: 'enriching' },
            { key: SA.bytesOut, value: 1000 + i },
          ],
        });
      // The first start loads the caches; what follows is what each further run costs.
      await start(0);
      const runs = 20;
      const before = await definitionReads(metricsUrl);
      for (let i = 1; i <= runs; i++) await start(i);
      // Each start writes its visibility record too: wait until all are listed, by an attribute only they have.
      const deadline = Date.now() + 15_000;
      let found = 0;
      while (Date.now() < deadline) {
        found = (await client.workflow.count(`AlertUser = 'jdoe' AND BytesOut > 1000`)).count;
        if (found === runs) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(found, runs, 'every run is found by its search attributes');
      const reads = (await definitionReads(metricsUrl)) - before;
      // Re-read on every use (the CLI's default) this is four or more per run (the start's check and its visibility
      // write, each a namespace and a definitions read): 83 to 90 here when measured; from the cache, 4.
      assert.ok(reads < runs, `${reads} reads of search-attribute definitions and namespaces for ${runs} runs`);
    } finally {
      await connection.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
