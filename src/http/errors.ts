import type { ZodError } from 'zod';

export interface ErrorDetail {
  path: string;
  message: string;
}

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

export function zodDetails(error: ZodError): ErrorDetail[] {
  return error.issues.map((issue) => {
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      return { path: issue.keys.join(', '), message: `unexpected field${issue.keys.length > 1 ? 's' : ''}` };
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) return { path, message: 'is required' };
    return { path, message: issue.message };
  });
}
