/** Configuration: defaults, environment overrides, secrets, and errors that name the key. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig, parseConfig, sanitizeConfig, secretsOf } from '../../src/config';
import { rawTestConfig, tempDir, TEST_PAYLOAD_KEY } from '../helpers/fixtures';

describe('configuration', () => {
  test('the shipped config/soar.yaml is valid and starts the embedded dev server', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.devServer.enabled, true);
    assert.equal(config.temporal.address, '127.0.0.1:7233');
    assert.equal(config.http.port, 8080);
    assert.equal(config.playbook.approvalTimeout, 30 * 60_000);
  });

  test('playbook.businessHours may be left out: every one of its keys has a default', () => {
    const raw = rawTestConfig();
    const { businessHours: _omitted, ...playbook } = raw.playbook as Record<string, unknown>;
    const config = parseConfig({ ...raw, playbook }, {});
    assert.deepEqual(config.playbook.businessHours, { defaultTimezone: 'UTC', days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00', holidays: [] });
  });

  test('environment variables override the Temporal and HTTP settings', () => {
    const config = parseConfig(rawTestConfig(), {
      TEMPORAL_ADDRESS: 'temporal.prod.internal:7233',
      TEMPORAL_NAMESPACE: 'soc',
      TEMPORAL_TASK_QUEUE: 'playbooks-eu',
      TEMPORAL_TLS: 'true',
      SOAR_HTTP_PORT: '9090',
    });
    assert.equal(config.temporal.address, 'temporal.prod.internal:7233');
    assert.equal(config.temporal.namespace, 'soc');
    assert.equal(config.temporal.taskQueue, 'playbooks-eu');
    assert.equal(config.temporal.tls.enabled, true);
    assert.equal(config.http.port, 9090);
  });

  test('secrets come from env: references and never appear in the sanitized view', () => {
    const raw = rawTestConfig();
    const config = parseConfig(
      { ...raw, http: { host: '127.0.0.1', webhookTokens: ['env:SIEM_TOKEN'] } },
      { SIEM_TOKEN: 'tok-very-secret', TEMPORAL_API_KEY: 'key-very-secret' },
    );
    assert.deepEqual(config.http.webhookTokens, ['tok-very-secret']);
    // The test configuration's payload encryption key is a secret too.
    assert.deepEqual(secretsOf(config).sort(), [TEST_PAYLOAD_KEY.key, 'key-very-secret', 'tok-very-secret'].sort());
    const shown = JSON.stringify(sanitizeConfig(config));
    assert.ok(!shown.includes('tok-very-secret') && !shown.includes('key-very-secret'));
  });

  test('a missing env: secret names the key and the variable', () => {
    const raw = rawTestConfig();
    assert.throws(
      () => parseConfig({ ...raw, http: { webhookTokens: ['env:NOPE'] } }, {}),
      (err: ConfigError) => {
        assert.deepEqual(err.details, ['http.webhookTokens.0: refers to environment variable NOPE, which is not set']);
        return true;
      },
    );
  });

  test('errors name each wrong key', () => {
    const raw = rawTestConfig();
    const playbook = raw.playbook as Record<string, unknown>;
    assert.throws(
      () =>
        parseConfig(
          { ...raw, playbook: { ...playbook, approvalTimeout: 'soon', businessHours: { defaultTimezone: 'Mars/Olympus' } }, surprise: 1 },
          {},
        ),
      (err: ConfigError) => {
        assert.deepEqual(err.details.sort(), [
          '(root): Unrecognized key: "surprise"',
          'playbook.approvalTimeout: must be a duration like 90s, 30m or 2h',
          'playbook.businessHours.defaultTimezone: must be an IANA time zone such as Europe/Berlin',
        ]);
        return true;
      },
    );
  });

  test('the embedded dev server refuses a non-loopback Temporal address', () => {
    const raw = rawTestConfig();
    assert.throws(
      () => parseConfig({ ...raw, temporal: { address: 'temporal.prod:7233', devServer: { enabled: true } } }, {}),
      /temporal\.devServer\.enabled: the embedded dev server listens on loopback only/,
    );
  });

  test('a worker cache of 0 runs is refused with the reason (runs with local activities would stall)', () => {
    const raw = rawTestConfig();
    const temporal = raw.temporal as Record<string, unknown>;
    assert.throws(
      () => parseConfig({ ...raw, temporal: { ...temporal, worker: { maxCachedWorkflows: 0 } } }, {}),
      /temporal\.worker\.maxCachedWorkflows: must be at least 1/,
    );
    const ok = parseConfig({ ...raw, temporal: { ...temporal, worker: { maxCachedWorkflows: 1 } } }, {});
    assert.equal(ok.temporal.worker.maxCachedWorkflows, 1);
  });

  test("the ingest worker's workflow-task pollers: the SDK's default unless set; fewer than the slots when set", () => {
    const raw = rawTestConfig();
    const temporal = raw.temporal as Record<string, unknown>;
    const withWorker = (worker: Record<string, unknown>) => parseConfig({ ...raw, temporal: { ...temporal, worker } }, {});
    assert.equal(withWorker({}).temporal.worker.ingestWorkflowTaskPolls, undefined);
    assert.equal(withWorker({ ingestWorkflowTaskPolls: 4 }).temporal.worker.ingestWorkflowTaskPolls, 4);
    assert.equal(withWorker({ maxConcurrentWorkflowTasks: 40, ingestWorkflowTaskPolls: 12 }).temporal.worker.ingestWorkflowTaskPolls, 12);
    assert.throws(
      () => withWorker({ ingestWorkflowTaskPolls: 8 }),
      /temporal\.worker\.ingestWorkflowTaskPolls: must be less than maxConcurrentWorkflowTasks/,
    );
    assert.throws(() => withWorker({ ingestWorkflowTaskPolls: 1 }), /temporal\.worker\.ingestWorkflowTaskPolls: must be at least 2/);
  });

  test('the stuck-worker watch: three minutes unless set; off with 0; never under the minute an idle worker takes to poll', () => {
    const raw = rawTestConfig();
    const temporal = raw.temporal as Record<string, unknown>;
    const withWorker = (worker: Record<string, unknown>) => parseConfig({ ...raw, temporal: { ...temporal, worker } }, {});
    assert.equal(withWorker({}).temporal.worker.stuckAfter, 180_000);
    assert.equal(withWorker({ stuckAfter: '5m' }).temporal.worker.stuckAfter, 300_000);
    assert.equal(withWorker({ stuckAfter: 0 }).temporal.worker.stuckAfter, 0);
    assert.throws(() => withWorker({ stuckAfter: '30s' }), /temporal\.worker\.stuckAfter: must be 0 \(not watched\) or at least 90s/);
  });

  test('a stuck worker is replaced three times an hour unless set; 0 stops at the first; never negative', () => {
    const raw = rawTestConfig();
    const temporal = raw.temporal as Record<string, unknown>;
    const withWorker = (worker: Record<string, unknown>) => parseConfig({ ...raw, temporal: { ...temporal, worker } }, {});
    assert.equal(withWorker({}).temporal.worker.stuckReplacementsPerHour, 3);
    assert.equal(withWorker({ stuckReplacementsPerHour: 0 }).temporal.worker.stuckReplacementsPerHour, 0);
    assert.throws(() => withWorker({ stuckReplacementsPerHour: -1 }), /temporal\.worker\.stuckReplacementsPerHour: /);
    assert.throws(() => withWorker({ stuckReplacementsPerHour: 1.5 }), /temporal\.worker\.stuckReplacementsPerHour: /);
  });

  test('a config file that is not YAML is reported with its path', () => {
    const file = path.join(tempDir(), 'bad.yaml');
    writeFileSync(file, 'temporal: [unclosed');
    assert.throws(
      () => loadConfig({ SOAR_CONFIG: file }),
      new RegExp(`The configuration file ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid YAML`),
    );
  });
});
