/**
 * End to end on a real Temporal dev server: a SIEM posts an alert over HTTP, the run shows its decision at
 * GET /runs/:id, an approver decides with the real CLI in a separate process, and containment is recorded.
 * Nothing of the project's own is mocked.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { parseConfig, type Config } from '../../src/config';
import { DryRunContainment } from '../../src/connectors/dry-run/client';
import type { RunState } from '../../src/contracts/playbook';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { createWorker } from '../../src/worker';
import { createActivityDeps } from '../../src/wiring';
import { rawTestConfig, tempDir, unique } from '../helpers/fixtures';
import { eventually, startTestServer, workflowBundle } from '../helpers/temporal';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

describe('generic webhook to containment, end to end', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let app: FastifyInstance;
  let base: string;
  let config: Config;
  let configFile: string;

  before(async () => {
    env = await startTestServer();
    const raw = rawTestConfig({ address: env.address, taskQueue: unique('e2e') });
    config = parseConfig(raw, {});
    configFile = path.join(tempDir('soar-config-'), 'soar.yaml');
    writeFileSync(configFile, stringify(raw));
    const logger = createLogger({ level: 'silent' });
    worker = await createWorker({
      config,
      connection: env.nativeConnection,
      deps: createActivityDeps(config, logger),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
    app = buildApp({ config, client: env.client, logger });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await app?.close();
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  const cli = (...args: string[]) =>
    execFileAsync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, SOAR_CONFIG: configFile },
    });

  const getRun = async (id: string) => {
    const res = await fetch(`${base}/runs/${id}`);
    return { status: res.status, body: (await res.json()) as RunState };
  };

  test('POST alert, GET the decision, approve with the CLI, containment recorded', async () => {
    const alert = {
      alertId: unique('e2e'),
      user: 'jdoe',
      host: 'LAPTOP-JD01',
      srcIp: '10.20.30.40',
      destDomain: 'dropbox.com',
      bytesOut: 734003200,
      eventTime: new Date(Date.now() - 3600_000).toISOString(),
      severity: 'high',
      ruleName: 'Large upload to cloud storage',
    };
    const post = () =>
      fetch(`${base}/webhooks/siem/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
      });

    const first = await post();
    assert.equal(first.status, 202);
    const { workflowId, duplicate } = (await first.json()) as { workflowId: string; duplicate: boolean };
    assert.equal(duplicate, false);
    assert.equal(workflowId, `t1567-002-generic-${alert.alertId}`);

    const again = await post();
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { workflowId, duplicate: true });

    const waiting = await eventually(
      async () => {
        const run = await getRun(workflowId);
        return run.body.stage === 'awaiting-approval' ? run.body : null;
      },
      30_000,
      'the run to await approval',
    );
    assert.equal(waiting.decision?.outcome, 'escalate');
    assert.ok(waiting.decision?.triggeredBy.includes('volume-out-of-norm'));
    assert.equal(waiting.approval.status, 'pending');
    assert.equal(waiting.alert.bytesOut, 734003200);

    // The subject cannot approve their own containment, even through the CLI.
    await assert.rejects(cli('approve', workflowId, '--as', 'jdoe'), (err: Error & { code?: number; stderr?: string }) => {
      assert.equal(err.code, 3);
      assert.match(err.stderr ?? '', /Rejected: jdoe is the subject of this alert and may not decide on it\./);
      return true;
    });

    const approved = await cli('approve', workflowId, '--as', 'alice', '--comment', 'confirmed exfil');
    assert.match(approved.stdout, new RegExp(`${workflowId}: approved by alice at `));

    const closed = await eventually(
      async () => {
        const run = await getRun(workflowId);
        return run.body.status === 'closed' ? run.body : null;
      },
      30_000,
      'the run to close',
    );
    assert.equal(closed.outcome, 'containment-simulated');
    assert.equal(closed.approval.decidedBy, 'alice');
    assert.equal(closed.approval.via, 'cli');
    assert.deepEqual(
      closed.containment.map((c) => [c.action, c.status]),
      [
        ['revoke-cloud-storage-access', 'simulated'],
        ['isolate-endpoint', 'simulated'],
      ],
    );
    const ledger = await new DryRunContainment(config.dataDir).entries();
    assert.deepEqual(ledger.map((e) => e.key).sort(), [`${workflowId}:isolate-endpoint`, `${workflowId}:revoke-cloud-storage-access`]);

    const shown = await cli('show', workflowId);
    assert.match(shown.stdout, /## Containment\n- revoke-cloud-storage-access on jdoe via dry-run: \*\*simulated\*\*/);
  });

  test('GET /runs for an unknown ID is a 404, and /healthz is a 200', async () => {
    const res = await fetch(`${base}/runs/no-such-run`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'No playbook run with workflow ID no-such-run', details: [] });
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });
});
