/**
 * Prometheus metrics (prom-client), served on `GET /metrics`. One registry per process: the HTTP side counts alerts,
 * the worker side counts what the audit trail records (runs, approvals, containment), so a run counted once in the
 * audit file is counted once here.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEvent } from './audit/audit-log';

export class PlaybookMetrics {
  readonly registry = new Registry();

  readonly alertsReceived = new Counter({
    name: 'soar_alerts_received_total',
    help: 'Alerts posted to a SIEM webhook, by source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly alertsRejected = new Counter({
    name: 'soar_alerts_rejected_total',
    help:
      'Alerts not acknowledged (invalid, unauthorised, too large, Temporal unavailable), by source, HTTP status and whether ' +
      'Temporal may have recorded them anyway (recorded="unknown": a 503 after a call that may have reached Temporal)',
    labelNames: ['source', 'status', 'recorded'] as const,
    registers: [this.registry],
  });
  readonly alertsDeduplicated = new Counter({
    name: 'soar_alerts_deduplicated_total',
    help: 'Alerts that already had a run (same source and alert ID), by source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly runsClosed = new Counter({
    name: 'soar_runs_closed_total',
    help: 'Playbook runs closed, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly approvalLatency = new Histogram({
    name: 'soar_approval_latency_seconds',
    help: 'Time from the approval request to the human decision (or expiry), by result',
    labelNames: ['result'] as const,
    buckets: [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 86400],
    registers: [this.registry],
  });
  readonly containmentActions = new Counter({
    name: 'soar_containment_actions_total',
    help: 'Containment and release (undo) actions, by provider, action and result',
    labelNames: ['provider', 'action', 'result'] as const,
    registers: [this.registry],
  });
  readonly auditRecords = new Counter({
    name: 'soar_audit_records_total',
    help: 'Audit records appended, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly devServerRestarts = new Counter({
    name: 'soar_temporal_dev_server_restarts_total',
    help: 'Restarts of the embedded Temporal dev server after it stopped unexpectedly (temporal.devServer.enabled)',
    registers: [this.registry],
  });
  readonly devServerUp = new Gauge({
    name: 'soar_temporal_dev_server_up',
    help: '1 while the embedded Temporal dev server is running and verified, 0 while it is down or restarting',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'soar_' });
  }

  /** Counts what a newly appended audit record says. */
  observeAudit(event: AuditEvent): void {
    this.auditRecords.inc({ type: event.type });
    const d = event.data;
    switch (event.type) {
      case 'run-closed':
        if (typeof d.outcome === 'string') this.runsClosed.inc({ outcome: d.outcome });
        break;
      case 'approval': {
        const requested = typeof d.requestedAt === 'string' ? Date.parse(d.requestedAt) : NaN;
        const decided = typeof d.decidedAt === 'string' ? Date.parse(d.decidedAt) : Date.parse(event.at);
        if (typeof d.status === 'string' && Number.isFinite(requested) && Number.isFinite(decided)) {
          this.approvalLatency.observe({ result: d.status }, Math.max(0, (decided - requested) / 1000));
        }
        break;
      }
      case 'containment':
      case 'release':
        this.containmentActions.inc({ provider: String(d.provider), action: String(d.action), result: String(d.status) });
        break;
      default:
        break;
    }
  }
}
