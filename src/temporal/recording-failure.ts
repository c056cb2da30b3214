import { isGrpcServiceError } from '@temporalio/client';

/**
 * What a failed call to Temporal says about whether the alert was recorded.
 * - `not-recorded`: Temporal refused it (RESOURCE_EXHAUSTED, ABORTED: an update-with-start whose workflow task failed
 *   is not accepted) or was never reached: no connection could be established, or the deadline passed while the
 *   call still waited for one (grpc-js then names the stage it waited in and no `remote_addr`). The client's own
 *   retries resend only calls that failed with such codes, so no earlier attempt can have been recorded either.
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
  unknown: 'Temporal did not confirm in time; the alert may have been recorded: retry, a retry is deduplicated',
};
