/**
 * Prometheus metrics (prom-client), served on `GET /metrics`. One registry per process: the HTTP side counts alerts,
 * the worker side counts what the audit trail records (decisions, runs, approvals, containment), so a run counted once
 * in the audit file is counted once here. The gauges of cases waiting for approval are not counted at all: the HTTP
 * side asks Temporal visibility on every scrape (`watchCases`), so they are true whichever worker holds the cases.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEvent } from './audit/audit-log';

/** What the case gauges show, read from Temporal visibility. */
export interface CaseGauges {
  awaitingApproval: number;
  oldestWaitSeconds: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

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
  readonly alertAckDuration = new Histogram({
    name: 'soar_alert_ack_duration_seconds',
    help: 'Time from a SIEM webhook request to its answer (the acknowledgement, or the refusal), by source and HTTP status',
    labelNames: ['source', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'soar_decisions_total',
    help: 'Escalation decisions (workflows/decide.ts), by outcome: escalate, review, benign',
    labelNames: ['outcome'] as const,
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

  readonly statusReadsShed = new Counter({
    name: 'soar_alert_status_reads_shed_total',
    help:
      'Alert status reads (GET /alerts/...) answered 503 instead of querying their case index: busy (ingest.maxStatusQueries ' +
      'already running) or timeout (ingest.statusQueryTimeout passed)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly workerReplacements = new Counter({
    name: 'soar_worker_replacements_total',
    help: 'Workers found running without polling their task queue and replaced in the process (temporal.worker.stuckAfter)',
    labelNames: ['task_queue'] as const,
    registers: [this.registry],
  });

  readonly casesAwaitingApproval = new Gauge({
    name: 'soar_cases_awaiting_approval',
    help: 'Open cases waiting for a human decision (ApprovalState = "pending"), from Temporal visibility at scrape time',
    registers: [this.registry],
    collect: () => this.refreshCases(),
  });
  readonly oldestApprovalWait = new Gauge({
    name: 'soar_cases_awaiting_approval_oldest_seconds',
    help: 'Age of the oldest case waiting for a human decision (since the case started; 0 when none waits)',
    registers: [this.registry],
    collect: () => this.refreshCases(),
  });
  readonly caseVisibilityUp = new Gauge({
    name: 'soar_case_visibility_up',
    help: '1 when the last scrape could read the case gauges from Temporal visibility, 0 when it could not',
    registers: [this.registry],
    collect: () => this.refreshCases(),
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'soar_' });
  }

  /**
   * Fills the case gauges from `read` on every scrape (the HTTP process calls this with a Temporal visibility query).
   * A failed read sets `soar_case_visibility_up` to 0 and leaves the gauges at their last value, so one slow scrape
   * neither pages nor clears a page; the scrape itself never fails because of it.
   */
  watchCases(read: () => Promise<CaseGauges>, timeoutMs = 5000): void {
    this.caseReader = { read, timeoutMs };
  }

  private caseReader: { read: () => Promise<CaseGauges>; timeoutMs: number } | null = null;
  private caseRefresh: Promise<void> | null = null;

  /** Three gauges, one read per scrape: the first gauge's collect starts it, the others wait for the same one. */
  private refreshCases(): Promise<void> {
    const reader = this.caseReader;
    if (!reader) return Promise.resolve();
    this.caseRefresh ??= (async () => {
      try {
        const gauges = await withTimeout(reader.read(), reader.timeoutMs);
        this.casesAwaitingApproval.set(gauges.awaitingApproval);
        this.oldestApprovalWait.set(gauges.oldestWaitSeconds);
        this.caseVisibilityUp.set(1);
      } catch {
        this.caseVisibilityUp.set(0);
      } finally {
        setImmediate(() => (this.caseRefresh = null));
      }
    })();
    return this.caseRefresh;
  }

  /** Counts what a newly appended audit record says. */
  observeAudit(event: AuditEvent): void {
    this.auditRecords.inc({ type: event.type });
    const d = event.data;
    switch (event.type) {
      case 'decision':
        if (typeof d.outcome === 'string') this.decisions.inc({ outcome: d.outcome });
        break;
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
