/**
 * The embedded dev server picks some ports itself (its HTTP API, metrics and internal services): free when picked,
 * bound a moment later. Another process can take one in between; CI once saw the app's start fail that way
 * ("failed listening for HTTP API ... address already in use"). Such a start is tried again, a bounded number of
 * times; any other failed start still fails at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { startDevServer } from '../../src/temporal/dev-server';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import { embeddedDevServerConfig } from '../helpers/dev-server';
import { captureLogs } from '../helpers/logs';
import { freePort } from '../helpers/net';

async function hold(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

describe('the embedded dev server and the ports it picks itself', () => {
  test('a port taken between the pick and the bind: started again, and up', async () => {
    const cli = await resolveTemporalCli();
    assert.ok(cli, 'the Temporal CLI (npm run temporal:cli)');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soar-devserver-race-'));
    // The HTTP API port is the one CI lost. Named here so the test can hold it during the first launch only.
    const httpPort = await freePort();
    let holder: Server | null = await hold(httpPort);
    const { lines, logger } = captureLogs({
      onLine: (line) => {
        if (holder && /address already in use/i.test(line)) {
          const h = holder;
          holder = null;
          h.close();
        }
      },
    });
    const config = await embeddedDevServerConfig(dir);
    try {
      const server = await startDevServer(config, cli.path, logger, { extraArgs: ['--http-port', String(httpPort)] });
      try {
        assert.equal(holder, null, 'the first launch met the taken port');
        assert.ok(
          lines.some((l) => l.includes('A port the dev server picked for itself was taken meanwhile; starting it again')),
          'the second launch is logged',
        );
        assert.equal(server.up, true);
        const connection = await Connection.connect({ address: config.address });
        try {
          await connection.workflowService.getSystemInfo({});
        } finally {
          await connection.close();
        }
      } finally {
        await server.stop();
      }
    } finally {
      (holder as Server | null)?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a port that stays taken: the start fails after a bounded number of launches, saying why', async () => {
    const cli = await resolveTemporalCli();
    assert.ok(cli, 'the Temporal CLI (npm run temporal:cli)');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soar-devserver-race-'));
    const httpPort = await freePort();
    const holder = await hold(httpPort);
    const { lines, logger } = captureLogs();
    try {
      await assert.rejects(
        startDevServer(await embeddedDevServerConfig(dir), cli.path, logger, { extraArgs: ['--http-port', String(httpPort)] }),
        /exited with code 1 during start-up/,
      );
      const starts = lines.filter((l) => l.includes('Starting the Temporal dev server')).length;
      assert.equal(starts, 3, 'three launches, then the error');
    } finally {
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
