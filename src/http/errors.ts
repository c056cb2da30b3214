import type { ErrorDetail } from '../error-details';

/** An error with the status and the body a caller sees: `{"error": "...", "details": [...]}`, plus `fields` if any. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
