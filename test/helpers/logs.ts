/** A logger (the app's own, `createLogger`) whose output lines are kept for assertions, and passed to `onLine`. */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/logger';

export function captureLogs(options: { level?: string; secrets?: string[]; onLine?: (line: string) => void } = {}): {
  logger: Logger;
  lines: string[];
} {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        lines.push(line);
        options.onLine?.(line);
      }
      done();
    },
  });
  return { logger: createLogger({ level: options.level ?? 'info', secrets: options.secrets ?? [], destination }), lines };
}
