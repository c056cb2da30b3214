import { isGrpcServiceError } from '@temporalio/client';

/**
 * What a failed call to Temporal says about whether the alert was recorded.
 * - `not-recorded`: Temporal refused it (RESOURCE_EXHAUSTED, ABORTED: an update-with-start whose workflow task failed
 *   is not accepted) or was never reached: no connection could be established, or the deadline passed while the
 *   call still waited for one (grpc-js then names the stage it waited in and no `remote_addr`). This is true of the
 *   whole call only because the client's retries of writes resend nothing else (`retryInterceptor` in
 *   src/temporal/connection.ts) and because a caller that tries a second way after an uncertain first one wraps the
 *   second failure in `MaybeRecorded`.
 * - `unknown`: the request may have reached Temporal and been recorded after the caller stopped waiting
 *   (DEADLINE_EXCEEDED, CANCELLED, a connection lost mid-call). A retry is harmless: it is deduplicated.
 * - null: not a sign of Temporal being unavailable at all (a bug, a validation error): the caller answers 500.
 */
export type RecordingFailure = 'not-recorded' | 'unknown';

const NOT_RECORDED_CODES = new Set([8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */]);
const UNKNOWN_CODES = new Set([1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */]);
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
/** grpc-js says this when the channel could not connect, so nothing was sent. */
const NEVER_CONNECTED = /No connection established|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|Failed to connect/i;

/** A deadline that passed before the call had a connection to travel on: grpc-js names no peer then. */
const NEVER_SENT = (text: string) => /waiting for|Waiting for LB pick/.test(text) && !text.includes('remote_addr=');

/**
 * A failure after an earlier attempt that may have been recorded (a timed-out update followed by a refused signal):
 * whatever the last error says, the alert may be in Temporal.
 */
export class MaybeRecorded extends Error {
  constructor(cause: unknown) {
    super(`An earlier attempt may have been recorded: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'MaybeRecorded';
  }
}

/**
 * Whether a failed attempt certainly sent nothing that Temporal could have recorded, so resending it cannot make a
 * record that the caller would not hear about. Takes the gRPC status (code and details) of one attempt.
 */
export function nothingSent(status: { code: number; details?: string }): boolean {
  return classify({ ...status, message: '' } as Error & { code: number; details?: string }) === 'not-recorded';
}

function classify(err: Error & { code: number; details?: string }): RecordingFailure | null {
  const text = `${err.details ?? ''} ${err.message}`;
  if (NOT_RECORDED_CODES.has(err.code)) return 'not-recorded';
  if (err.code === DEADLINE_EXCEEDED && NEVER_SENT(text)) return 'not-recorded';
  if (UNKNOWN_CODES.has(err.code)) return 'unknown';
  if (err.code === UNAVAILABLE) return NEVER_CONNECTED.test(text) ? 'not-recorded' : 'unknown';
  return null;
}

/**
 * Whether (and how) an error means Temporal could not confirm the record in time. The SDK wraps the gRPC error (a
 * ServiceError, or a WorkflowUpdateRPCTimeoutOrCancelledError for updates), so the cause chain is followed a few
 * levels.
 */
export function recordingFailure(err: unknown): RecordingFailure | null {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof MaybeRecorded) return 'unknown';
    if (isGrpcServiceError(current)) return classify(current);
    current = current.cause;
  }
  return null;
}

/** Whether an error means Temporal could not be reached or did not confirm in time: the caller should retry. */
export function temporalUnavailable(err: unknown): boolean {
  return recordingFailure(err) !== null;
}

/** The error text a SIEM sees for each kind of failure; the status is 503 with Retry-After either way. */
export const RECORDING_FAILURE_MESSAGE: Record<RecordingFailure, string> = {
  'not-recorded': 'Temporal is unavailable; nothing was recorded, retry later',
  unknown:
    'Temporal did not confirm the alert (no answer in time, or the connection was lost mid-call); it may have been recorded: retry, a retry is deduplicated',
};
