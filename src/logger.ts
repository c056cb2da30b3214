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

/**
 * The forms a secret takes in a JSON line: as is, and as JSON escapes it (a quote, a backslash, a control character),
 * longest first so a secret that holds a shorter one is replaced whole.
 */
function secretForms(secrets: string[]): string[] {
  const forms = new Set<string>();
  for (const s of secrets) {
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

export function createLogger(options: { level?: string; secrets?: string[]; destination?: pino.DestinationStream } = {}): Logger {
  const forms = secretForms((options.secrets ?? []).filter((s) => s.length >= 4));
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
        // Every line as it is written, once: whatever put a secret there (the message, a field, an error's stack, a
        // child logger's bindings), it is replaced. One scan of the finished line per secret, not a walk of each
        // argument's objects.
        streamWrite(line) {
          let out = line;
          for (const s of forms) if (out.includes(s)) out = out.split(s).join('[redacted]');
          return out;
        },
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
