/**
 * deploy/monitoring/ checked with the real promtool (Debian's `prometheus` package; scripts/ensure-promtool.sh
 * installs it for CI): the rules load, their unit tests pass, and a rule broken on purpose fails them (so the unit
 * tests can fail). The dashboard parses and every panel queries the dashboard's Prometheus data source. That each
 * metric named is really served is test/e2e/monitoring.e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/fixtures';
import {
  dashboardExpressions,
  metricNamesIn,
  PROMTOOL,
  readDashboard,
  ruleExpressions,
  RULES_FILE,
  RULES_TEST_FILE,
} from '../helpers/monitoring';

const execFileAsync = promisify(execFile);
const promtool = (...args: string[]) => execFileAsync(PROMTOOL, args).catch((err: { stdout: string; stderr: string }) => err);

describe('deploy/monitoring', () => {
  test('promtool accepts the alerting rules', async () => {
    const { stdout } = await execFileAsync(PROMTOOL, ['check', 'rules', RULES_FILE]);
    assert.match(stdout, /SUCCESS: 9 rules found/);
  });

  test('the rules pass their promtool unit tests, and a rule with a wrong threshold fails them', async () => {
    const { stdout } = await execFileAsync(PROMTOOL, ['test', 'rules', RULES_TEST_FILE]);
    assert.match(stdout, /SUCCESS/);

    const dir = tempDir('soar-rules-');
    const broken = path.join(dir, 'alerts.rules.yml');
    writeFileSync(
      broken,
      readFileSync(RULES_FILE, 'utf8').replace(
        'soar_cases_awaiting_approval_oldest_seconds) > 1800',
        'soar_cases_awaiting_approval_oldest_seconds) > 3600',
      ),
    );
    writeFileSync(path.join(dir, 'alerts.test.yml'), readFileSync(RULES_TEST_FILE, 'utf8'));
    const failed = await promtool('test', 'rules', path.join(dir, 'alerts.test.yml'));
    assert.match(`${failed.stdout}${failed.stderr}`, /FAILED:[\s\S]*alertname: SoarApprovalWaitingPastWindow, time: 20m/);
  });

  test('the dashboard parses, its panels have unique IDs and every query uses the dashboard data source', () => {
    const dashboard = readDashboard();
    assert.equal(dashboard.uid, 'soar-playbook-worker');
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel IDs are unique');
    const queried = dashboard.panels.filter((p) => p.type !== 'row');
    assert.ok(queried.length >= 15, `${queried.length} panels`);
    for (const panel of queried) {
      assert.ok(panel.targets?.length, `${panel.title} has a query`);
      assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, panel.title);
      for (const t of panel.targets ?? []) assert.deepEqual(t.datasource, panel.datasource, `${panel.title} ${t.refId}`);
    }
  });

  test('the dashboard shows what an operator asked for, by the metric names it uses', () => {
    const names = metricNamesIn(dashboardExpressions());
    for (const name of [
      'soar_alerts_received_total',
      'soar_alerts_rejected_total',
      'soar_alert_ack_duration_seconds_bucket',
      'soar_decisions_total',
      'soar_cases_awaiting_approval',
      'soar_cases_awaiting_approval_oldest_seconds',
      'soar_approval_latency_seconds_count',
      'soar_approval_latency_seconds_bucket',
      'soar_containment_actions_total',
      'temporal_workflow_task_schedule_to_start_latency_seconds_bucket',
      'temporal_activity_execution_latency_seconds_bucket',
      // A file source's lookup is a local activity: its latency is the local activity metric.
      'temporal_local_activity_execution_latency_seconds_bucket',
      'temporal_worker_task_slots_used',
      'temporal_num_pollers',
    ]) {
      assert.ok(names.includes(name), `the dashboard queries ${name}`);
    }
    assert.ok(metricNamesIn(ruleExpressions()).includes('temporal_num_pollers'));
  });
});
