/**
 * The operator's tools against the running system, configured as a deployment is (API and webhook tokens, audit
 * keys, a Splunk token, all from the environment): the real `temporal` CLI queries a run through the codec endpoint
 * (a query without arguments sends `{}`), `soar list` runs with only Temporal's settings in its environment, and
 * the run's audit records are keyed and form the run's own chain, which `soar audit verify` checks.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { AuditRecord } from '../../src/audit/audit-log';
import { resolveTemporalCli } from '../../src/temporal/temporal-cli';
import { startE2e, type E2e } from '../helpers/e2e';
import { benignAlert, escalatingAlert } from '../helpers/fixtures';
import { eventually } from '../helpers/temporal';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const SECRETS = {
  SOAR_WEBHOOK_TOKEN: 'whk-4f1e2d3c4b5a6978',
  SOAR_API_TOKEN: 'api-8a7b6c5d4e3f2a1b',
  SOAR_METRICS_TOKEN: 'met-1a2b3c4d5e6f7a8b',
  SOAR_HEC_TOKEN: 'hec-0f9e8d7c6b5a4938',
  SOAR_AUDIT_KEY: 'audit-key-3c5e7a9b1d3f5a7c9e1b3d5f7a9c',
};

describe('operator access: codec for the temporal CLI, CLI secrets, the keyed run chain', () => {
  let e2e: E2e;

  before(async () => {
    e2e = await startE2e({
      name: 'operator',
      configure: (raw) => ({
        ...raw,
        http: {
          ...(raw.http as object),
          webhookTokens: ['env:SOAR_WEBHOOK_TOKEN'],
          apiTokens: ['env:SOAR_API_TOKEN'],
          metricsTokens: ['env:SOAR_METRICS_TOKEN'],
        },
        vendors: { splunk: { hecUrl: 'https://splunk.example:8088', hecToken: 'env:SOAR_HEC_TOKEN' } },
        audit: { keys: [{ id: 'audit-2026', key: 'env:SOAR_AUDIT_KEY' }] },
      }),
      env: SECRETS,
    });
  });

  after(async () => {
    await e2e?.stop();
  });

  /** `soar <args>` with exactly `env` (plus PATH): no other secret is there. */
  const soar = async (env: Record<string, string>, ...args: string[]) => {
    try {
      const out = await execFileAsync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SOAR_CONFIG: e2e.configFile, ...env },
      });
      return { code: 0, stdout: out.stdout, stderr: out.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  test('the temporal CLI queries a run through the codec endpoint (a query without arguments)', { timeout: 120_000 }, async () => {
    const accepted = await e2e.post('/webhooks/siem/generic', strip(escalatingAlert()), {
      authorization: `Bearer ${SECRETS.SOAR_WEBHOOK_TOKEN}`,
    });
    assert.equal(accepted.status, 202);
    const { workflowId } = (await accepted.json()) as { workflowId: string };
    await eventually(
      async () => (await e2e.run(workflowId, { authorization: `Bearer ${SECRETS.SOAR_API_TOKEN}` })).approval.status === 'pending',
      30_000,
      'a pending approval',
    );

    const cli = await resolveTemporalCli();
    assert.ok(cli, 'the Temporal CLI is installed (it runs the dev server)');
    const query = (...extra: string[]) =>
      execFileAsync(cli.path, [
        'workflow',
        'query',
        '--address',
        e2e.env.address,
        '--workflow-id',
        workflowId,
        '--type',
        'getState',
        '--codec-endpoint',
        `${e2e.base}/codec`,
        '--output',
        'json',
        ...extra,
      ]);
    const { stdout } = await query('--codec-auth', `Bearer ${SECRETS.SOAR_API_TOKEN}`);
    const answer = JSON.parse(stdout) as { queryResult: { approval: { status: string }; alert: { user: string } }[] };
    assert.equal(answer.queryResult[0]?.approval.status, 'pending');
    assert.equal(answer.queryResult[0]?.alert.user, 'jdoe');
    // Without the token the codec refuses, and the CLI says so.
    await assert.rejects(query(), (err: Error & { stderr?: string }) => /401|Unauthorized/i.test(`${err.message}${err.stderr ?? ''}`));
  });

  test('soar list needs only Temporal’s settings; audit verify only the audit key', { timeout: 120_000 }, async () => {
    const list = await soar({}, 'list', '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.ok(Array.isArray(JSON.parse(list.stdout)));
    // `start` still needs every secret, and names the first one missing.
    const started = await soar({}, 'start', '--http-only');
    assert.equal(started.code, 2);
    assert.match(started.stderr, /http\.webhookTokens\.0: refers to environment variable SOAR_WEBHOOK_TOKEN, which is not set/);
  });

  test('a run’s audit records are keyed and form its own chain, which audit verify checks', { timeout: 120_000 }, async () => {
    const accepted = await e2e.post('/webhooks/siem/generic', strip(benignAlert()), {
      authorization: `Bearer ${SECRETS.SOAR_WEBHOOK_TOKEN}`,
    });
    assert.equal(accepted.status, 202);
    const { workflowId } = (await accepted.json()) as { workflowId: string };
    await e2e.client.workflow.getHandle(workflowId).result();
    const records = readFileSync(e2e.config.audit.file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditRecord)
      .filter((r) => r.workflowId === workflowId);
    assert.deepEqual(
      records.map((r) => [r.type, r.keyId]),
      [
        ['decision', 'audit-2026'],
        ['run-closed', 'audit-2026'],
      ],
    );
    assert.equal(records[0]?.runPrevHash, '0'.repeat(64));
    assert.equal(records[1]?.runPrevHash, records[0]?.runHash);

    const verified = await soar({ SOAR_AUDIT_KEY: SECRETS.SOAR_AUDIT_KEY }, 'audit', 'verify');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /keys: \d+ records keyed; MACs valid/);
    assert.match(verified.stdout, /signed head: record \d+, matches the end of the file/);
    assert.match(verified.stdout, /runs: [1-9]\d* run chains intact \([1-9]\d* closed/);
    const withoutKey = await soar({}, 'audit', 'verify');
    assert.equal(withoutKey.code, 2);
    assert.match(withoutKey.stderr, /audit\.keys\.0\.key: refers to environment variable SOAR_AUDIT_KEY, which is not set/);
  });
});

/** The generic webhook takes the alert without the normalizer's fields. */
function strip(alert: ReturnType<typeof benignAlert>) {
  const { source: _source, raw: _raw, ...body } = alert;
  return body;
}
