/**
 * Operations, end to end: the real service (`soar start`, worker and HTTP in one process) against a real Temporal
 * dev server, configured with a secret of every kind. Alerts in, an approval, containment; then GET /metrics shows
 * the counters and the SDK's worker metrics, the logs are JSON lines correlated by workflow ID, and no configured
 * secret appears anywhere in them. The audit trail is forwarded to a Splunk HEC stand-in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decideApproval } from '../../src/temporal/playbook-runs';
import { StandIn } from '../fakes/stand-in';
import { startE2e, type E2e } from '../helpers/e2e';
import { TEST_PAYLOAD_KEY, unique } from '../helpers/fixtures';
import { freePort } from '../helpers/net';
import { eventually } from '../helpers/temporal';

const SECRETS = {
  SOAR_WEBHOOK_TOKEN: 'whk-7f3c9a1e5b2d4c6a8e0f',
  SOAR_API_TOKEN: 'api-2b4d6f8a0c1e3g5i7k9m',
  SOAR_METRICS_TOKEN: 'met-9z8y7x6w5v4u3t2s1r0q',
  SOAR_HEC_TOKEN: 'hec-5e6f7a8b9c0d1e2f3a4b',
};

describe('operations: metrics, logs and secrets of a real run', () => {
  const hec = new StandIn();
  let e2e: E2e;

  before(async () => {
    hec.on('POST', '/services/collector/event', () => ({ status: 200, body: { text: 'Success', code: 0 } }));
    const sdkMetricsAddress = `127.0.0.1:${await freePort()}`;
    e2e = await startE2e({
      name: 'ops',
      standIns: [hec],
      configure: (raw) => ({
        ...raw,
        http: {
          webhookTokens: ['env:SOAR_WEBHOOK_TOKEN'],
          apiTokens: ['env:SOAR_API_TOKEN'],
          metricsTokens: ['env:SOAR_METRICS_TOKEN'],
        },
        vendors: { splunk: { hecUrl: hec.url, hecToken: 'env:SOAR_HEC_TOKEN' } },
        audit: { forward: { to: 'splunk' } },
        metrics: { sdkPrometheusAddress: sdkMetricsAddress },
        log: { level: 'info' },
      }),
      env: SECRETS,
      childProcess: true,
    });
  });

  after(async () => {
    await e2e?.stop();
  });

  const post = (body: unknown, token = SECRETS.SOAR_WEBHOOK_TOKEN) =>
    e2e.post('/webhooks/siem/generic', body, { authorization: `Bearer ${token}` });
  const metricsWith = (token?: string) => e2e.get('/metrics', token ? { authorization: `Bearer ${token}` } : {});

  test('counts, correlates and never logs a secret', { timeout: 180_000 }, async () => {
    const alert = {
      alertId: unique('ops'),
      user: 'jdoe',
      host: 'LAPTOP-JD01',
      srcIp: '10.20.30.40',
      destDomain: 'dropbox.com',
      bytesOut: 734003200,
      eventTime: new Date(Date.now() - 60_000).toISOString(),
      severity: 'high',
      ruleName: 'Large upload to cloud storage',
    };
    const accepted = await post(alert);
    assert.equal(accepted.status, 202);
    const { workflowId } = (await accepted.json()) as { workflowId: string };
    assert.equal((await post(alert)).status, 200, 'the same alert again is a duplicate');
    assert.equal((await post({ ...alert, bytesOut: -1 })).status, 400);
    assert.equal((await post(alert, 'wrong-token')).status, 401);

    const run = () => e2e.run(workflowId, { authorization: `Bearer ${SECRETS.SOAR_API_TOKEN}` });
    await eventually(async () => (await run()).approval.status === 'pending', 30_000, 'approval to be requested');
    // The test's client shares the service's payload key (TEST_PAYLOAD_KEY): without it this would fail.
    await decideApproval(e2e.client, workflowId, { decision: 'approve', approver: 'alice', via: 'cli' });
    const closed = await eventually(async () => ((await run()).status === 'closed' ? run() : null), 30_000, 'the run to close');
    assert.equal(closed.outcome, 'containment-simulated');

    // /metrics: its own token only.
    assert.equal((await metricsWith()).status, 401);
    assert.equal((await metricsWith(SECRETS.SOAR_API_TOKEN)).status, 401);
    const metricsRes = await metricsWith(SECRETS.SOAR_METRICS_TOKEN);
    assert.equal(metricsRes.status, 200);
    assert.match(metricsRes.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const metrics = await metricsRes.text();
    for (const line of [
      'soar_alerts_received_total{source="generic"} 4',
      'soar_alerts_deduplicated_total{source="generic"} 1',
      'soar_alerts_rejected_total{source="generic",status="400",recorded="false"} 1',
      'soar_alerts_rejected_total{source="generic",status="401",recorded="false"} 1',
      'soar_runs_closed_total{outcome="containment-simulated"} 1',
      'soar_approval_latency_seconds_count{result="approved"} 1',
      'soar_containment_actions_total{provider="dry-run",action="isolate-endpoint",result="simulated"} 1',
      'soar_containment_actions_total{provider="dry-run",action="revoke-cloud-storage-access",result="simulated"} 1',
      'soar_audit_records_total{type="decision"} 1',
    ]) {
      assert.ok(metrics.includes(line), `metrics include ${line}`);
    }
    // The SDK's own worker metrics, from its Prometheus exporter, on the same page.
    assert.match(metrics, /^temporal_\w+/m);
    assert.match(metrics, /temporal_workflow_completed_total\{[^}]*\} 1/);

    // The audit trail reached the HEC stand-in with its token.
    const forwarded = hec.calls('POST', '/services/collector/event');
    assert.ok(forwarded.length >= 5, `forwarded ${forwarded.length} audit records`);
    assert.ok(forwarded.every((c) => c.headers.authorization === `Splunk ${SECRETS.SOAR_HEC_TOKEN}`));

    // Logs: every line JSON; the worker's lines carry the workflow ID; no secret anywhere.
    await eventually(() => Promise.resolve(e2e.output().includes('"msg":"Audit record"')), 10_000, 'audit logs');
    const output = e2e.output();
    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const forRun = records.filter((r) => r.workflowId === workflowId);
    const messages = new Set(forRun.map((r) => r.msg));
    for (const msg of ['Escalation decision', 'Approval requested', 'Audit record', 'Case report published']) {
      assert.ok(messages.has(msg), `a "${msg}" log line carries workflowId ${workflowId}`);
    }
    for (const [name, value] of [...Object.entries(SECRETS), ['payload key', TEST_PAYLOAD_KEY.key] as const]) {
      assert.ok(!output.includes(value), `${name} must not appear in the logs`);
    }
    assert.ok(output.includes('[redacted]'), 'the sanitized configuration is logged with secrets replaced');
    const activityLine = forRun.find((r) => r.msg === 'Audit record');
    assert.equal(activityLine?.taskToken, '[redacted]', 'the activity task token is not logged');
    assert.equal(activityLine?.activityType, 'recordAuditEvent');
  });
});
