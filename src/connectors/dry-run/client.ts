/**
 * Dry-run containment: records what it would do in an append-only ledger and calls nothing real. Every result it
 * returns says `simulated`. Keyed by run and action, so a retried or replayed activity finds its earlier entry
 * and does not record the action twice.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainmentActionName, ReleaseActionName } from '../../contracts/playbook';
import type {
  AccessRevocationProvider,
  AccessTarget,
  EndpointIsolationProvider,
  IsolationTarget,
  ProviderOutcome,
} from '../../contracts/ports';
import { ConnectorConfigurationError } from '../errors';

interface LedgerEntry {
  key: string;
  result: { action: string; provider: string; status: 'simulated'; detail: string; at: string };
}

export class DryRunContainment {
  readonly name = 'dry-run';
  readonly ledgerFile: string;
  /** Serialises check-then-append within this process. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.ledgerFile = path.join(dataDir, 'dry-run-containment.jsonl');
  }

  /** Every entry recorded so far, oldest first. */
  async entries(): Promise<LedgerEntry[]> {
    let text: string;
    try {
      text = await readFile(this.ledgerFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ConnectorConfigurationError(this.name, `cannot read ${this.ledgerFile}: ${(err as Error).message}`, { cause: err });
    }
    return text
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line) as LedgerEntry);
  }

  /** The isolation port: records, never calls a vendor. */
  readonly isolation: EndpointIsolationProvider = {
    name: 'dry-run',
    isolate: (target: IsolationTarget) =>
      this.record(target.workflowId, 'isolate-endpoint', `Would request network isolation of ${target.host}.`),
    release: (target: IsolationTarget) =>
      this.record(target.workflowId, 'lift-endpoint-isolation', `Would lift the network isolation of ${target.host}.`),
  };

  /** The access port: records, never calls a vendor. */
  readonly access: AccessRevocationProvider = {
    name: 'dry-run',
    revoke: (target: AccessTarget) =>
      this.record(
        target.workflowId,
        'revoke-cloud-storage-access',
        `Would revoke ${target.user}'s cloud-storage sessions and tokens (destination ${target.destDomain}).`,
      ),
    restore: (target: AccessTarget) =>
      this.record(target.workflowId, 'restore-cloud-storage-access', `Would restore ${target.user}'s cloud-storage access.`),
  };

  private record(workflowId: string, action: ContainmentActionName | ReleaseActionName, detail: string): Promise<ProviderOutcome> {
    const run = async (): Promise<ProviderOutcome> => {
      const key = `${workflowId}:${action}`;
      const existing = (await this.entries()).find((e) => e.key === key);
      if (existing) return { status: 'simulated', detail: existing.result.detail };
      const result = { action, provider: this.name, status: 'simulated' as const, detail, at: this.now().toISOString() };
      await mkdir(path.dirname(this.ledgerFile), { recursive: true });
      await appendFile(this.ledgerFile, `${JSON.stringify({ key, result } satisfies LedgerEntry)}\n`, 'utf8');
      return { status: 'simulated', detail };
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
