/** The audit trail the activities write to: the hash-chained file, then (optionally) the SIEM, then the metrics. */
import type { AuditForwarder } from '../contracts/ports';
import type { PlaybookMetrics } from '../metrics';
import { runHashOf, type AuditEvent, type AuditRecord, type FileAuditLog } from './audit-log';

export interface AuditReceipt {
  /** False when this event's key was already recorded (a retried activity): nothing new was written. */
  appended: boolean;
  seq: number | null;
  hash: string | null;
  /** The event's link in its run's chain (when the workflow sent `runPrevHash`), also when nothing new was written. */
  runHash: string | null;
}

export class AuditTrail {
  /** Records appended by this process that the SIEM has not acknowledged yet: a retry forwards them again. */
  private readonly unforwarded = new Map<string, AuditRecord>();

  constructor(
    readonly log: FileAuditLog,
    private readonly forwarder: AuditForwarder | null = null,
    private readonly metrics: PlaybookMetrics | null = null,
  ) {}

  get forwardsTo(): string | null {
    return this.forwarder?.name ?? null;
  }

  async record(event: AuditEvent): Promise<AuditReceipt> {
    const { record, appended } = await this.log.append(event);
    if (appended) this.metrics?.observeAudit(event);
    const toForward = record ?? this.unforwarded.get(event.eventKey);
    if (this.forwarder && toForward) {
      this.unforwarded.set(event.eventKey, toForward);
      await this.forwarder.forward(toForward);
      this.unforwarded.delete(event.eventKey);
    }
    return {
      appended,
      seq: record?.seq ?? null,
      hash: record?.hash ?? null,
      runHash: event.runPrevHash !== undefined ? runHashOf(event) : null,
    };
  }
}
