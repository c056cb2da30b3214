/**
 * The `details` of an error a caller sees (`{"error": "...", "details": [{"path", "message"}]}`) and how a zod
 * failure becomes them. Shared by the HTTP routes and the SIEM normalisers in src/ingest, which report bad alert
 * fields in the same words without depending on the HTTP layer.
 */
import type { ZodError } from 'zod';

export interface ErrorDetail {
  path: string;
  message: string;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** One detail per problem, naming the field: "is required", "unexpected field", or the schema's own message. */
export function zodDetails(error: ZodError, input: unknown): ErrorDetail[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const prefix = path ? `${path}.` : '';
      return { path: issue.keys.map((k) => prefix + k).join(', '), message: `unexpected field${issue.keys.length > 1 ? 's' : ''}` };
    }
    if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
      return { path, message: path ? 'is required' : 'a JSON object body is required' };
    }
    return { path, message: issue.message };
  });
}
