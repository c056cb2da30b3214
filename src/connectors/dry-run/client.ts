/**
 * Dry-run containment: records what it would do in an append-only ledger and calls nothing real. Every result it
 * returns says `simulated`. Keyed by run and action, so a retried or replayed activity finds its earlier entry
 * and does not record the action twice.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainmentActionName, ContainmentActionResult, ContainmentRequest } from '../../contracts/playbook';
import type { ContainmentProvider } from '../../contracts/ports';
import { ConnectorConfigurationError } from '../errors';

interface LedgerEntry {
  key: string;
  result: ContainmentActionResult;
}

export class DryRunContainment implements ContainmentProvider {
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

  revokeCloudStorageAccess(request: ContainmentRequest): Promise<ContainmentActionResult> {
    return this.record(
      request,
      'revoke-cloud-storage-access',
      request.user,
      `Would revoke ${request.user}'s cloud-storage sessions and tokens (destination ${request.destDomain}).`,
    );
  }

  isolateEndpoint(request: ContainmentRequest): Promise<ContainmentActionResult> {
    return this.record(request, 'isolate-endpoint', request.host, `Would request network isolation of ${request.host}.`);
  }

  private record(
    request: ContainmentRequest,
    action: ContainmentActionName,
    target: string,
    detail: string,
  ): Promise<ContainmentActionResult> {
    const run = async () => {
      const key = `${request.workflowId}:${action}`;
      const existing = (await this.entries()).find((e) => e.key === key);
      if (existing) return existing.result;
      const result: ContainmentActionResult = {
        action,
        target,
        provider: this.name,
        status: 'simulated',
        detail,
        at: this.now().toISOString(),
      };
      await mkdir(path.dirname(this.ledgerFile), { recursive: true });
      await appendFile(this.ledgerFile, `${JSON.stringify({ key, result } satisfies LedgerEntry)}\n`, 'utf8');
      return result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
