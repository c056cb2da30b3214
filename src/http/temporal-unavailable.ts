import { isGrpcServiceError } from '@temporalio/client';

/**
 * gRPC status codes that mean "Temporal did not confirm in time": the SIEM should retry (deduplication makes the
 * retry safe). CANCELLED and ABORTED come back from an update-with-start whose workflow task failed or timed out
 * under load: the alert was not recorded.
 */
const UNAVAILABLE_CODES = new Set([
  1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 14 /* UNAVAILABLE */,
]);

/**
 * Whether an error means Temporal could not be reached in time. The SDK wraps the gRPC error (a ServiceError, or a
 * WorkflowUpdateRPCTimeoutOrCancelledError for updates), so the cause chain is followed a few levels.
 */
export function temporalUnavailable(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (isGrpcServiceError(current)) return UNAVAILABLE_CODES.has(current.code);
    current = current.cause;
  }
  return isGrpcServiceError(current) && UNAVAILABLE_CODES.has(current.code);
}
