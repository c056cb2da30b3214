/**
 * Structured JSON logs (pino). Logs are evidence: never silenced when stdout is not a terminal. Every configured
 * secret is replaced wherever it appears in a log line, and credential-bearing fields are redacted by path.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'headers["x-slack-signature"]',
  'token',
  '*.token',
  // The SDK's activity log attributes carry the task token, which can complete the activity from outside.
  'taskToken',
  '*.taskToken',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'secret',
  '*.secret',
];

/** `value` with every secret replaced; the same reference when nothing in it changed (most log lines). */
function scrub(value: unknown, secrets: string[], depth = 0): unknown {
  if (typeof value === 'string') {
    let out = value;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    return out;
  }
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return scrub({ type: value.name, message: value.message, stack: value.stack }, secrets, depth + 1);
  if (Array.isArray(value)) {
    const out = value.map((v) => scrub(v, secrets, depth + 1));
    return out.some((v, i) => v !== value[i]) ? out : value;
  }
  const entries = Object.entries(value);
  let changed = false;
  const out = entries.map(([k, v]) => {
    const s = scrub(v, secrets, depth + 1);
    if (s !== v) changed = true;
    return [k, s] as const;
  });
  return changed ? Object.fromEntries(out) : value;
}

export function createLogger(options: { level?: string; secrets?: string[]; destination?: pino.DestinationStream } = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'soar-playbook-worker' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: {
        level: (label) => ({ level: label }),
      },
      hooks: {
        // Every argument of every log call, once: the merged object pino formats comes from these arguments.
        logMethod(args, method) {
          if (secrets.length) {
            const scrubbed = args.map((a) => scrub(a, secrets)) as Parameters<typeof method>;
            return method.apply(this, scrubbed);
          }
          return method.apply(this, args);
        },
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
