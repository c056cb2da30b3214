import { isGrpcServiceError } from '@temporalio/client';

/** gRPC status codes that mean "Temporal is not there right now": the SIEM should retry. */
const UNAVAILABLE_CODES = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */, 8 /* RESOURCE_EXHAUSTED */]);

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
