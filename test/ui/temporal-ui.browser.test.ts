/**
 * The Temporal Web UI as the IR team's case view, in a real browser: the dev server with its UI (wired to this
 * app's codec endpoint), the worker, one escalated run; headless Chromium (Debian's `chromium`, driven by
 * playwright-core) filters the run list by a search attribute, opens the run, and must show the case line, which
 * is encrypted in Temporal and readable only through the codec endpoint. A screenshot goes to test-output/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext } from 'playwright-core';
import { parseConfig, type Config } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { startPlaybookRun } from '../../src/temporal/playbook-runs';
import { createWorker } from '../../src/worker';
import { createActivityDeps } from '../../src/wiring';
import { getStateQuery } from '../../workflows/messages';
import { escalatingAlert, rawTestConfig, tempDir, unique } from '../helpers/fixtures';
import { eventually, startTestServer, workflowBundle } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const OUTPUT = path.join(ROOT, 'test-output');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('the run in the Temporal Web UI (headless Chromium)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let app: FastifyInstance;
  let config: Config;
  let uiUrl = '';
  let browser: BrowserContext | null = null;

  before(async () => {
    // Fail, never skip: `npm test` installs Chromium (scripts/ensure-chromium.sh) when it runs as root.
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}. Install Debian's package (apt-get install -y chromium; \`npm test\` does this when run as root) or set CHROMIUM_PATH.`,
      );
    }
    const [uiPort, httpPort] = [await freePort(), await freePort()];
    uiUrl = `http://127.0.0.1:${uiPort}`;
    env = await startTestServer({ uiPort, extraArgs: ['--ui-codec-endpoint', `http://127.0.0.1:${httpPort}/codec`] });
    const raw = rawTestConfig({ address: env.address, taskQueue: unique('ui') });
    config = parseConfig({ ...raw, temporal: { ...(raw.temporal as object), uiUrl } }, {});
    const logger = createLogger({ level: 'silent' });
    worker = await createWorker({
      config,
      connection: env.nativeConnection,
      deps: createActivityDeps(config, logger),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
    app = buildApp({ config, client: env.client, logger });
    await app.listen({ host: '127.0.0.1', port: httpPort });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  test('filters by AlertId, opens the run and shows its case line', { timeout: 180_000 }, async () => {
    const alert = escalatingAlert({ alertId: unique('ui') });
    const { workflowId } = await startPlaybookRun(env.client, config, alert);
    const handle = env.client.workflow.getHandle(workflowId);
    await eventually(async () => (await handle.query(getStateQuery)).approval.status === 'pending', 30_000, 'a pending approval');

    browser = await chromium.launchPersistentContext(tempDir('soar-chromium-'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 1000 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(30_000);

    // The run list, filtered by a search attribute.
    const query = `AlertId = "${alert.alertId}" AND Decision = "escalate"`;
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    const link = page.getByRole('link', { name: workflowId });
    await eventually(
      async () => {
        if (await link.count()) return true;
        await page.reload(); // visibility is eventually consistent
        await page.waitForTimeout(1000);
        return false;
      },
      60_000,
      'the run in the filtered list',
    );
    await link.first().click();

    // The run's page: the static summary and the current details, decrypted by the codec endpoint.
    await page.waitForURL(new RegExp(`/workflows/${workflowId}/`));
    const summary = 'jdoe uploaded 700.0 MiB to dropbox.com from LAPTOP-JD01 at 2026-11-28 01:14 UTC';
    // The User Metadata tab: summary, details and current details (the UI renders the Markdown in a frame).
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    const caseLine = 'jdoe uploaded 700.0 MiB to dropbox.com from LAPTOP-JD01 at 02:14 local, escalated: 340.0 sigma, off-hours';
    const shown = async (text: string) => {
      for (const frame of page.frames()) {
        const body = await frame
          .locator('body')
          .innerText()
          .catch(() => '');
        if (body.replace(/\s+/g, ' ').includes(text)) return true;
      }
      return false;
    };
    await eventually(() => shown(summary), 30_000, 'the summary on the run page');
    await eventually(() => shown(caseLine), 30_000, 'the case line in the current details');
    await eventually(() => shown('Approval: pending'), 30_000, 'the approval state in the current details');
    mkdirSync(OUTPUT, { recursive: true });
    const shot = path.join(OUTPUT, 'ui-run.png');
    await page.screenshot({ path: shot, fullPage: false });
    assert.ok(existsSync(shot));
  });
});
