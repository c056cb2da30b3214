/**
 * The Temporal Web UI as the IR team's case view, in a real browser: the dev server with its UI (wired to this
 * app's codec endpoint), the worker, one escalated run; headless Chromium (Debian's `chromium`, driven by
 * playwright-core) filters the run list by a search attribute, opens the run, and must show the case line, which
 * is encrypted in Temporal and readable only through the codec endpoint, with `http.apiTokens` set (the UI sends no
 * token: the codec endpoint lets in the embedded UI's loopback requests). A screenshot goes to test-output/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { getStateQuery } from '../../workflows/messages';
import { startE2e, type E2e } from '../helpers/e2e';
import { escalatingAlert, tempDir, unique } from '../helpers/fixtures';
import { eventually } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const OUTPUT = path.join(ROOT, 'test-output');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const API_TOKEN = 'ui-test-api-token-5d1c';

describe('the run in the Temporal Web UI (headless Chromium)', () => {
  let e2e: E2e;
  let browser: BrowserContext | null = null;

  before(async () => {
    // Fail, never skip: `npm test` installs Chromium (scripts/ensure-chromium.sh) when it runs as root.
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}. Install Debian's package (apt-get install -y chromium; \`npm test\` does this when run as root) or set CHROMIUM_PATH.`,
      );
    }
    // As deployed: API tokens are set (the read API and the codec need one), and the embedded UI, which can send
    // none, still decodes (http.codec.loopbackUi; on by default with the embedded dev server, which this harness
    // starts itself).
    e2e = await startE2e({
      name: 'ui',
      ui: true,
      configure: (raw) => ({ ...raw, http: { ...(raw.http as object), apiTokens: [API_TOKEN], codec: { loopbackUi: true } } }),
    });
  });

  after(async () => {
    await browser?.close();
    await e2e?.stop();
  });

  test('filters by AlertId, opens the run and shows its case line', { timeout: 180_000 }, async () => {
    const alert = escalatingAlert({ alertId: unique('ui') });
    // Through the webhook, as every production run starts.
    const { source: _source, raw: _raw, ...body } = alert;
    const accepted = await e2e.post('/webhooks/siem/generic', body);
    assert.equal(accepted.status, 202);
    const { workflowId } = (await accepted.json()) as { workflowId: string };
    const handle = e2e.client.workflow.getHandle(workflowId);
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
    await page.goto(`${e2e.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
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
    ).catch(async (err: unknown) => {
      // Say what the UI showed instead (an error banner, an empty list), so a failure on a loaded machine can be told apart.
      await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => undefined);
      const shown = await page.locator('body').innerText({ timeout: 5_000 }).catch(() => '(the page could not be read)');
      throw new Error(`${err instanceof Error ? err.message : String(err)}; the page at ${page.url()} showed: ${shown.replace(/\s+/g, ' ').slice(0, 600)}`);
    });
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
