/**
 * Monitoring, end to end: the real service (`soar start`, worker and HTTP in one process, the SDK's Prometheus
 * exporter on) against a real Temporal dev server and the Slack stand-in. One alert for a protected account runs
 * through approval and a refused containment. Along the way: the case gauges follow the waiting case, the CLI's case
 * list counts the case and not the case index beside it, the Tier 2 escalation is posted to Slack's escalation
 * channel with the case link (and still logged), and every metric that deploy/monitoring/'s dashboard and alert
 * rules name is served by GET /metrics.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runUrl } from '../../src/connectors/slack/blocks';
import { decideApproval } from '../../src/temporal/playbook-runs';
import { SlackStandIn } from '../fakes/slack';
import { startE2e, type E2e } from '../helpers/e2e';
import { unique } from '../helpers/fixtures';
import { dashboardExpressions, metricNamesIn, ruleExpressions } from '../helpers/monitoring';
import { freePort } from '../helpers/net';
import { eventually } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const SOC = 'C0SOC0001';
const ESC = 'C0ESC0001';

/** Sample values by series (`name{labels}`), from the Prometheus text format. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
const sampleNames = (text: string) => new Set([...samples(text).keys()].map((series) => series.replace(/\{.*$/, '')));

describe('monitoring: the dashboard and alert rules against the running service; Tier 2 in Slack; the case list', () => {
  const slack = new SlackStandIn();
  let e2e: E2e;
  const secrets = { TEST_SLACK_BOT_TOKEN: slack.token, TEST_SLACK_SIGNING_SECRET: slack.signingSecret };

  before(async () => {
    slack.users = { U0ALICE01: { name: 'alice', email: 'alice@acme.example' } };
    slack.groups = { S0ESC0001: [] };
    const sdkMetricsAddress = `127.0.0.1:${await freePort()}`;
    e2e = await startE2e({
      name: 'mon',
      standIns: [slack],
      configure: (raw) => ({
        ...raw,
        playbook: { ...(raw.playbook as object), containment: { protectedAccounts: ['jdoe'] } },
        slack: {
          botToken: 'env:TEST_SLACK_BOT_TOKEN',
          signingSecret: 'env:TEST_SLACK_SIGNING_SECRET',
          teamId: slack.teamId,
          appId: slack.appId,
          channel: SOC,
          apiUrl: slack.apiUrl,
          responseUrlPrefix: `${slack.url}/actions/`,
          approvers: { users: ['U0ALICE01'], userGroups: [] },
          userMap: { U0ALICE01: 'alice' },
          mapUsersByEmail: false,
          escalation: { channel: ESC, userGroup: 'S0ESC0001' },
        },
        metrics: { sdkPrometheusAddress: sdkMetricsAddress },
        log: { level: 'info' },
      }),
      env: secrets,
      childProcess: true,
    });
  });

  after(async () => {
    await e2e?.stop();
  });

  const metrics = async () => {
    const res = await e2e.get('/metrics');
    assert.equal(res.status, 200);
    return res.text();
  };

  test('gauges, case list, Tier 2 in Slack, and every metric the dashboard and rules name', { timeout: 240_000 }, async (t) => {
    const alert = {
      alertId: unique('mon'),
      user: 'jdoe',
      host: 'LAPTOP-JD01',
      srcIp: '10.20.30.40',
      destDomain: 'dropbox.com',
      bytesOut: 734003200,
      eventTime: new Date(Date.now() - 60_000).toISOString(),
      severity: 'high',
      ruleName: 'Large upload to cloud storage',
    };
    const accepted = await e2e.post('/webhooks/siem/generic', alert);
    assert.equal(accepted.status, 202);
    const { workflowId } = (await accepted.json()) as { workflowId: string };
    assert.equal((await e2e.post('/webhooks/siem/generic', alert)).status, 200, 'the same alert again is a duplicate');
    assert.equal((await e2e.post('/webhooks/siem/generic', { ...alert, bytesOut: -1 })).status, 400);
    // Slack fails the first Tier 2 post: the escalation is retried, not dropped (and the SDK counts a failed activity).
    slack.failNext('chat.postMessage', 'Tier 2 escalation', { status: 200, body: { ok: false, error: 'service_unavailable' } });
    await eventually(async () => (await e2e.run(workflowId)).approval.status === 'pending', 60_000, 'approval to be requested');

    // The case gauges, from visibility: one case waits, for a positive number of seconds.
    const waiting = await eventually(
      async () => {
        const s = samples(await metrics());
        return s.get('soar_cases_awaiting_approval') === 1 ? s : null;
      },
      30_000,
      'soar_cases_awaiting_approval to be 1',
    );
    assert.equal(waiting.get('soar_case_visibility_up'), 1);
    // What the case gauges cost a scrape (a count and a list in visibility): reported, not asserted (loaded machines).
    const timings: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await metrics();
      timings.push(performance.now() - started);
    }
    t.diagnostic(`GET /metrics with one case waiting: median ${timings.sort((a, b) => a - b)[2]?.toFixed(1)} ms of 5 scrapes`);
    assert.ok((waiting.get('soar_cases_awaiting_approval_oldest_seconds') ?? 0) > 0, 'the oldest wait is counted');

    // The case list: one open case, though the case index that opened it is running beside it.
    const running = await e2e.client.workflow.count('ExecutionStatus = "Running"');
    assert.ok(running.count >= 2, `the case and its case index run (${running.count} running workflows)`);
    const listed = await e2e.cli('list', '--status', 'running');
    assert.match(listed.stdout, new RegExp(`^${workflowId}\\s+RUNNING\\s`, 'm'));
    assert.equal(listed.stdout.trim().split('\n').length, 2, `a header and one case:\n${listed.stdout}`);
    assert.match(listed.stderr, /^1 case matches\.$/m);
    const queried = await e2e.cli('list', '--query', 'ExecutionStatus = "Running"');
    assert.match(queried.stderr, /^Listing cases where WorkflowType = "exfilToCloudStorage" AND \(ExecutionStatus = "Running"\)$/m);
    assert.match(queried.stderr, /^1 case matches\.$/m);

    // Approved; the protected account is refused and escalated to Tier 2 in the escalation channel, with the link.
    await decideApproval(e2e.client, workflowId, { decision: 'approve', approver: 'alice', via: 'cli' });
    const closed = await eventually(
      async () => {
        const run = await e2e.run(workflowId);
        return run.status === 'closed' ? run : null;
      },
      60_000,
      'the run to close',
    );
    assert.equal(closed.containment.find((c) => c.action === 'revoke-cloud-storage-access')?.status, 'refused');
    const escalations = slack.topLevel(ESC).filter((m) => m.text.startsWith('Tier 2 escalation'));
    assert.equal(escalations.length, 1, `one Tier 2 escalation in ${ESC}: ${JSON.stringify(slack.topLevel().map((m) => m.text))}`);
    const [escalation] = escalations;
    assert.ok(escalation);
    assert.equal(slack.calls.filter((c) => c.method === 'chat.postMessage' && String(c.args.text).startsWith('Tier 2')).length, 2);
    assert.match(escalation.text, /jdoe.*is a protected account/);
    const rendered = JSON.stringify(escalation.blocks);
    assert.ok(rendered.includes(`<${runUrl(e2e.uiUrl, 'default', workflowId)}|Open the case in Temporal>`), rendered);
    assert.ok(rendered.includes('<!subteam^S0ESC0001>'), 'the escalation group is mentioned');
    assert.match(e2e.output(), /"msg":"Tier 2 escalation: containment refused by a guard rail/, 'still logged');
    assert.ok(!e2e.output().includes(slack.token), 'the bot token is never logged');

    // Every metric the dashboard and the rules name has samples on GET /metrics now.
    const text = await eventually(
      async () => {
        const t = await metrics();
        return samples(t).get('soar_cases_awaiting_approval') === 0 ? t : null;
      },
      30_000,
      'the gauge to drop to 0',
    );
    const served = sampleNames(text);
    const named = metricNamesIn([...dashboardExpressions(), ...ruleExpressions()]);
    const missing = named.filter((name) => !served.has(name));
    assert.deepEqual(missing, [], `named by deploy/monitoring/ but not served:\n${[...served].sort().join('\n')}`);
    // The SDK's metrics follow Prometheus conventions: counters end in _total, durations are in seconds.
    assert.ok(served.has('temporal_workflow_completed_total') && !served.has('temporal_workflow_completed'));
    assert.ok(!text.includes('_milliseconds'), 'no duration in milliseconds');
    const s = samples(text);
    assert.equal(s.get('soar_decisions_total{outcome="escalate"}'), 1);
    assert.equal(s.get('soar_alert_ack_duration_seconds_count{source="generic",status="202"}'), 1);
    assert.equal(s.get('soar_alert_ack_duration_seconds_count{source="generic",status="400"}'), 1);
  });

  test('an --http-only process starts beside the worker on one host, same configuration; its /metrics has the worker’s SDK metrics', { timeout: 120_000 }, async () => {
    // The first process (`soar start`) holds metrics.sdkPrometheusAddress; only a process with workers binds it.
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'start', '--http-only'], {
      cwd: ROOT,
      env: { ...process.env, ...secrets, SOAR_CONFIG: e2e.configFile, SOAR_HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`start --http-only exited (${child.exitCode}):\n${output}`);
          return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200;
        },
        60_000,
        'the HTTP-only process to answer',
      );
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      const served = sampleNames(await res.text());
      assert.ok(served.has('soar_process_cpu_seconds_total'), 'its own metrics');
      assert.ok(served.has('temporal_workflow_completed_total'), 'the worker’s SDK metrics, from the address it serves');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
    assert.doesNotMatch(output, /Address already in use/);
  });
});
