import type { ErrorDetail } from '../error-details';

/** An error with the status and the body a caller sees: `{"error": "...", "details": [...]}`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
