/** NDJSON batches for the generic route: one JSON alert per line, each parsed (and refused) on its own. */
import secureJson from 'secure-json-parse';

export const MAX_NDJSON_LINES = 500;

export type NdjsonLine = { line: number; ok: true; value: unknown } | { line: number; ok: false; message: string };

/** The parsed body of an `application/x-ndjson` request: its lines, each parsed or with the reason it could not be. */
export class NdjsonBatch {
  constructor(readonly lines: NdjsonLine[]) {}
}

export function parseNdjson(text: string): NdjsonBatch {
  const lines: NdjsonLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const content = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (content.trim().length === 0) return;
    try {
      lines.push({
        line: i + 1,
        ok: true,
        value: secureJson.parse(content, undefined, { protoAction: 'error', constructorAction: 'error' }),
      });
    } catch (err) {
      lines.push({ line: i + 1, ok: false, message: `malformed JSON: ${(err as Error).message}` });
    }
  });
  return new NdjsonBatch(lines);
}
