/**
 * How many status reads (`GET /alerts/...`) one HTTP server has a case index answer at once, and for how long.
 *
 * A status read of a joined or not yet routed alert is a query of its case index, which the ingest worker answers,
 * replaying the index's history when it is out of the worker's cache. After a storm most indexes are, and a SIEM (or
 * a script) polling the status links of thousands of alerts would have the ingest worker replay indexes instead of
 * routing the alerts still waiting in them. Past `ingest.maxStatusQueries` a read is answered 503 with Retry-After at
 * once; a query that takes longer than `ingest.statusQueryTimeout` is given up and answered the same way (a read
 * changes nothing, so a retry is always safe).
 */
import { isGrpcCancelledError, isGrpcDeadlineError, type Client } from '@temporalio/client';
import { HttpError } from './errors';

const RETRY_AFTER_SECONDS = '1';

export interface StatusQueryGateOptions {
  maxQueries: number;
  timeoutMs: number;
  /** Counts a read answered 503, by why: `busy` (the bound) or `timeout`. */
  onShed?: (reason: 'busy' | 'timeout') => void;
}

export class StatusQueryGate {
  private running = 0;

  constructor(
    private readonly client: Client,
    private readonly options: StatusQueryGateOptions,
  ) {}

  /** Runs `query` when fewer than the bound run; throws a 503 HttpError when the bound is reached or the query times out. */
  readonly admit = async <T>(query: () => Promise<T>): Promise<T> => {
    if (this.running >= this.options.maxQueries) {
      this.options.onShed?.('busy');
      throw new HttpError(
        503,
        `This server already has ${this.options.maxQueries} case index status queries waiting; retry after Retry-After`,
        [],
        { 'retry-after': RETRY_AFTER_SECONDS },
      );
    }
    this.running++;
    try {
      return await this.client.connection.withDeadline(Date.now() + this.options.timeoutMs, query);
    } catch (err) {
      // Past the deadline grpc-js reports DEADLINE_EXCEEDED, unless the server, told the deadline, gave up first and
      // answered CANCELLED (both seen against the dev server); this code never cancels the call itself.
      if (!isGrpcDeadlineError(err) && !isGrpcCancelledError(err)) throw err;
      this.options.onShed?.('timeout');
      throw new HttpError(
        503,
        `The case index did not answer the status query within ${this.options.timeoutMs} ms; retry after Retry-After`,
        [],
        { 'retry-after': RETRY_AFTER_SECONDS },
      );
    } finally {
      this.running--;
    }
  };

  /** Queries running now (for tests). */
  get inFlight(): number {
    return this.running;
  }
}
