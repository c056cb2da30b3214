/**
 * One zod schema for the configuration file plus environment overrides, parsed once at start. Errors name the key.
 * Secrets may be given as `env:NAME` or `file:/path` references so the file itself holds none; `sanitizeConfig`
 * gives the view that may be logged.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_DECISION_POLICY } from '../workflows/decide';
import { isValidTimezone } from './enrichment/business-hours';
import { sanitizeSources, sourceSecrets, sourcesSchemas } from './connectors/sources-config';
import { payloadKeySecrets } from './temporal/payload-codec';
import { INGEST_SOURCES, ingestSchema, resolveSourceAuth, type IngestSource, type SourceAuth } from './ingest/config';

export const DEFAULT_CONFIG_PATH = 'config/soar.yaml';

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30m", "2s", "1h" or a number of milliseconds. */
export const durationMs = z
  .union([z.number().int().positive(), z.string().regex(DURATION, 'must be a duration like 90s, 30m or 2h')])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const [, n, unit] = DURATION.exec(v) ?? [];
    return Number(n) * (UNIT_MS[unit ?? 'ms'] ?? 1);
  });

type Env = Record<string, string | undefined>;

/** A secret: `env:NAME` (read from the environment), `file:PATH` (read from a file) or the literal value. */
const secretFrom = (env: Env) =>
  z
    .string()
    .min(1)
    .transform((v, ctx) => {
      if (v.startsWith('env:')) {
        const name = v.slice(4);
        const value = env[name];
        if (!value) {
          ctx.addIssue({ code: 'custom', message: `refers to environment variable ${name}, which is not set` });
          return z.NEVER;
        }
        return value;
      }
      if (v.startsWith('file:')) {
        try {
          return readFileSync(v.slice(5), 'utf8').trim();
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `refers to a file that cannot be read (${(err as Error).message})` });
          return z.NEVER;
        }
      }
      return v;
    });

/** A duration that may be 0 (off). */
const optionalDurationMs = z.union([z.literal(0), z.literal('0'), durationMs]).transform((v) => (v === '0' ? 0 : v));

export const ISOLATION_PROVIDERS = ['dry-run', 'crowdstrike', 'microsoft-defender', 'sentinelone'] as const;
export const ACCESS_PROVIDERS = ['dry-run', 'microsoft-graph', 'okta', 'google-workspace', 'dropbox'] as const;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like 09:00');
const timezone = z.string().refine(isValidTimezone, 'must be an IANA time zone such as Europe/Berlin');
const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');

const tlsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  serverName: z.string().optional(),
  caCertFile: z.string().optional(),
  clientCertFile: z.string().optional(),
  clientKeyFile: z.string().optional(),
});

/** The schema, with secrets resolved from the given environment. */
function buildSchema(env: Env) {
  const secret = secretFrom(env);
  const temporalSchema = z.strictObject({
    address: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
      .default('127.0.0.1:7233'),
    namespace: z.string().min(1).default('default'),
    taskQueue: z.string().min(1).default('soar-playbooks'),
    /**
     * The task queue of the case indexes that record alerts (src/temporal/ingest.ts). Its own queue, polled by its
     * own worker, keeps a webhook's acknowledgement from waiting behind playbook work in a storm. Unset: the case
     * indexes share `taskQueue`.
     */
    ingestTaskQueue: z.string().min(1).optional(),
    /** Worker tuning (src/worker.ts says why each default is what it is). */
    worker: z
      .strictObject({
        /** Workflow tasks one worker works on at once; more wait in the server's queue, where no timeout runs. */
        maxConcurrentWorkflowTasks: z.number().int().min(2).default(8),
        /** Activities one worker runs at once. */
        maxConcurrentActivities: z.number().int().min(1).default(100),
        /** Runs kept in the worker's sticky cache (each is a few KiB); default: the SDK's, from the heap size. */
        maxCachedWorkflows: z.number().int().min(0).optional(),
      })
      .default({ maxConcurrentWorkflowTasks: 8, maxConcurrentActivities: 100 }),
    /** Where people open runs; used for links in notifications and in `npm start`'s banner. */
    uiUrl: z.url().default('http://127.0.0.1:8233'),
    tls: tlsSchema.default({ enabled: false }),
    /** Temporal Cloud API key; prefer `env:TEMPORAL_API_KEY`. */
    apiKey: secret.optional(),
    /**
     * AES-GCM encryption of every payload (src/temporal/payload-codec.ts). On by default (fail closed). Keys: base64
     * of 32 bytes, the first encrypts, all decrypt. Without `keys`, the key ring in `keyFile` (default
     * `<dataDir>/payload-codec.keys`), which `npm start` generates on first start.
     */
    payloadCodec: z
      .strictObject({
        enabled: z.boolean().default(true),
        keys: z
          .array(z.strictObject({ id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ -'), key: secret }))
          .default([]),
        keyFile: z.string().optional(),
      })
      .default({ enabled: true, keys: [] }),
    devServer: z
      .strictObject({
        /** Start the Temporal CLI's dev server with the app: the one-machine embedded default. */
        enabled: z.boolean().default(false),
        dbFile: z.string().default('.data/temporal.db'),
        uiPort: z.number().int().min(1).max(65535).default(8233),
        logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('warn'),
      })
      .default({ enabled: false, dbFile: '.data/temporal.db', uiPort: 8233, logLevel: 'warn' }),
  });

  const httpSchema = z.strictObject({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /**
     * Bearer tokens accepted on the SIEM webhooks. With none, the webhooks accept unauthenticated requests only
     * while the server listens on loopback (dev mode); the config is refused otherwise.
     */
    webhookTokens: z.array(secret).default([]),
    /** Bearer tokens accepted on the read API (`GET /runs/:id`); same loopback-only rule when empty. */
    apiTokens: z.array(secret).default([]),
    /** Bearer tokens accepted on `GET /metrics` (give Prometheus its own); same loopback-only rule when empty. */
    metricsTokens: z.array(secret).default([]),
  });

  const approverSchema = z.strictObject({ id: z.string().min(1), name: z.string().min(1) });

  const playbookSchema = z.strictObject({
    /** The approval window; after it the request escalates (when approvalDeadline leaves time for that). */
    approvalTimeout: durationMs.default(30 * 60_000),
    /** The final deadline, counted from the request; defaults to approvalTimeout (no escalation stage). */
    approvalDeadline: durationMs.optional(),
    /** Reminders in the request's thread at this interval while it waits. */
    approvalReminderInterval: durationMs.optional(),
    /** Endpoint isolation needs two different approvers. */
    twoPersonIsolation: z.boolean().default(false),
    approvers: z.array(approverSchema).min(1, 'at least one approver is required'),
    decision: z
      .strictObject({
        zScoreThreshold: z.number().positive().default(DEFAULT_DECISION_POLICY.zScoreThreshold),
        multiplierThreshold: z.number().positive().default(DEFAULT_DECISION_POLICY.multiplierThreshold),
        minHistoryDays: z.number().int().positive().default(DEFAULT_DECISION_POLICY.minHistoryDays),
        volumeFloorBytes: z.number().int().nonnegative().default(DEFAULT_DECISION_POLICY.volumeFloorBytes),
        escalateDepartingEmployees: z.boolean().default(DEFAULT_DECISION_POLICY.escalateDepartingEmployees),
      })
      .default(DEFAULT_DECISION_POLICY),
    businessHours: z.strictObject({
      defaultTimezone: timezone.default('UTC'),
      days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
      start: hhmm.default('09:00'),
      end: hhmm.default('18:00'),
      holidays: z.array(z.strictObject({ date: z.iso.date(), name: z.string().min(1) })).default([]),
    }),
    /** How far back policy changes, exceptions and pilots are considered. */
    policyChangeWindowDays: z.number().int().positive().default(90),
    containment: z
      .strictObject({
        /** Accounts never contained (executives, break-glass): refused and escalated to Tier 2. `*` is a wildcard. */
        protectedAccounts: z.array(z.string().min(1)).default([]),
        /** Devices never isolated (domain controllers, servers): refused and escalated. `*` is a wildcard. */
        protectedDevices: z.array(z.string().min(1)).default([]),
        /** A host name matching more devices than this at the EDR is refused (a human picks the device). */
        maxDevicesPerRun: z.number().int().min(1).max(10).default(1),
        /** How long a run stays open after containment so it can be released; 0 closes it right away. */
        releaseWindow: optionalDurationMs.default(0),
        /** Re-escalate to Tier 2 when no one confirmed the containment within this; 0: no lease. */
        lease: optionalDurationMs.default(0),
      })
      .default({ protectedAccounts: [], protectedDevices: [], maxDevicesPerRun: 1, releaseWindow: 0, lease: 0 }),
  });

  const url = z.url();
  const template = z.string().includes('{user}', { message: 'must contain {user}' }).default('{user}');
  const entraApp = {
    tenantId: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a tenant ID or domain'),
    clientId: z.string().min(1),
    clientSecret: secret,
    /** Default https://login.microsoftonline.com/<tenantId>/oauth2/v2.0/token (sovereign clouds differ). */
    tokenUrl: url.optional(),
  };
  const containmentConnectorsSchema = z
    .strictObject({
      /** Per-request HTTP timeout for vendor calls. */
      requestTimeout: durationMs.default(15_000),
      isolation: z
        .strictObject({
          provider: z.enum(ISOLATION_PROVIDERS).default('dry-run'),
          /** How often the vendor is asked whether the device is isolated yet. */
          pollInterval: durationMs.default(5_000),
          /** Isolation not reported final within this is a failure ("requested, not verified"). */
          verifyTimeout: durationMs.default(10 * 60_000),
          /** A worker that stops heartbeating for this long is presumed dead; another resumes the polling. */
          heartbeatTimeout: durationMs.default(30_000),
          crowdstrike: z
            .strictObject({
              baseUrl: url.default('https://api.crowdstrike.com'),
              clientId: z.string().min(1),
              clientSecret: secret,
              memberCid: z.string().optional(),
            })
            .optional(),
          microsoftDefender: z
            .strictObject({
              ...entraApp,
              baseUrl: url.default('https://api.securitycenter.microsoft.com'),
              scope: z.string().default('https://api.securitycenter.microsoft.com/.default'),
              isolationType: z.enum(['Full', 'Selective']).default('Full'),
            })
            .optional(),
          sentinelone: z.strictObject({ baseUrl: url, apiToken: secret }).optional(),
        })
        .default({ provider: 'dry-run', pollInterval: 5_000, verifyTimeout: 600_000, heartbeatTimeout: 30_000 }),
      access: z
        .strictObject({
          /** Several may run; each is its own durable step. */
          providers: z.array(z.enum(ACCESS_PROVIDERS)).min(1).default(['dry-run']),
          microsoftGraph: z
            .strictObject({ ...entraApp, baseUrl: url.default('https://graph.microsoft.com'), userTemplate: template })
            .optional(),
          okta: z
            .strictObject({ orgUrl: url, apiToken: secret, userTemplate: template, unassignAppId: z.string().min(1).optional() })
            .optional(),
          googleWorkspace: z
            .strictObject({
              baseUrl: url.default('https://admin.googleapis.com'),
              /** The service-account key JSON; write it as file:/path/key.json or env:NAME. */
              serviceAccountKey: secret,
              /** The admin the service account acts as (domain-wide delegation). */
              subject: z.string().min(1),
              tokenUri: url.optional(),
              userTemplate: template,
            })
            .optional(),
          dropbox: z
            .strictObject({ baseUrl: url.default('https://api.dropboxapi.com'), accessToken: secret, userTemplate: template })
            .optional(),
        })
        .default({ providers: ['dry-run'] }),
    })
    .superRefine((c, ctx) => {
      const blocks: Record<string, string> = {
        crowdstrike: 'crowdstrike',
        'microsoft-defender': 'microsoftDefender',
        sentinelone: 'sentinelone',
        'microsoft-graph': 'microsoftGraph',
        okta: 'okta',
        'google-workspace': 'googleWorkspace',
        dropbox: 'dropbox',
      };
      const iso = c.isolation.provider;
      if (iso !== 'dry-run' && !(c.isolation as Record<string, unknown>)[blocks[iso] ?? '']) {
        ctx.addIssue({ code: 'custom', path: ['isolation', blocks[iso] ?? iso], message: `required when isolation.provider is ${iso}` });
      }
      for (const p of c.access.providers) {
        if (p !== 'dry-run' && !(c.access as Record<string, unknown>)[blocks[p] ?? '']) {
          ctx.addIssue({ code: 'custom', path: ['access', blocks[p] ?? p], message: `required when access.providers lists ${p}` });
        }
      }
      if (new Set(c.access.providers).size !== c.access.providers.length) {
        ctx.addIssue({ code: 'custom', path: ['access', 'providers'], message: 'lists a provider twice' });
      }
    });

  const connectorsSchema = z.strictObject({
    /** Folder of the file-backed sources (HR directory, devices, baselines, domains, changes). */
    dataDir: z.string().default('config/data'),
    /** Enrichment sources: `file` (default) or a real HTTP source each; see src/connectors/sources-config.ts. */
    ...sourcesSchemas(secret),
    containment: containmentConnectorsSchema.default(containmentConnectorsSchema.parse({})),
  });

  const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user ID such as U012AB3CD');
  const slackGroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group ID such as S0614TZR7');
  const slackChannelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel ID such as C024BE91L');
  const slackSchema = z.strictObject({
    /** Bot token (xoxb-...); prefer `env:SLACK_BOT_TOKEN`. */
    botToken: secret,
    /** The app's signing secret; prefer `env:SLACK_SIGNING_SECRET`. */
    signingSecret: secret,
    /** Interactions from any other workspace or app are refused. */
    teamId: z.string().regex(/^[TE][A-Z0-9]{2,}$/, 'must be a Slack team ID such as T0001'),
    appId: z.string().regex(/^A[A-Z0-9]{2,}$/, 'must be a Slack app ID such as A0KRD7HC3'),
    /** Where approval requests are posted. */
    channel: slackChannelId,
    /** Slack's Web API base; tests point it at a stand-in. */
    apiUrl: z.url().default('https://slack.com/api/'),
    /** Outcomes are reported to the clicker through `response_url` only when it starts with this. */
    responseUrlPrefix: z.url().default('https://hooks.slack.com/'),
    approvers: z
      .strictObject({
        users: z.array(slackUserId).default([]),
        userGroups: z.array(slackGroupId).default([]),
      })
      .refine((a) => a.users.length + a.userGroups.length > 0, 'name at least one approver user or user group'),
    /** Slack user ID -> directory user name; users not listed map by the local part of their Slack e-mail. */
    userMap: z
      .record(z.string(), z.string().min(1))
      .superRefine((map, ctx) => {
        for (const key of Object.keys(map)) {
          if (!slackUserId.safeParse(key).success) {
            ctx.addIssue({ code: 'custom', path: [key], message: 'must be a Slack user ID such as U012AB3CD' });
          }
        }
      })
      .default({}),
    /** Map unlisted users by their Slack profile e-mail (needs users:read.email); false: only userMap counts. */
    mapUsersByEmail: z.boolean().default(true),
    /** After the approval window: post to this channel and/or mention this group, whose members may then decide. */
    escalation: z
      .strictObject({ channel: slackChannelId.optional(), userGroup: slackGroupId.optional() })
      .refine((e) => e.channel !== undefined || e.userGroup !== undefined, 'name a channel, a user group or both')
      .optional(),
  });

  const auditSchema = z.strictObject({
    /** The append-only JSON Lines file; default `<dataDir>/audit/audit.jsonl`. */
    file: z.string().optional(),
    /** Optional copy of every record to the SIEM over HTTP. The local file stays the chain of record. */
    forward: z
      .discriminatedUnion('type', [
        z.strictObject({
          type: z.literal('splunk-hec'),
          /** Base URL of the HEC, e.g. https://splunk.example:8088 (records go to /services/collector/event). */
          url: z.url(),
          token: secret,
          index: z.string().optional(),
          sourcetype: z.string().default('soar:audit'),
        }),
        z.strictObject({
          type: z.literal('elasticsearch'),
          /** Base URL of the cluster (records go to /_bulk). */
          url: z.url(),
          index: z.string().min(1).default('soar-audit'),
          /** Sent as `Authorization: ApiKey <apiKey>`. */
          apiKey: secret.optional(),
        }),
      ])
      .optional(),
  });

  const metricsSchema = z.strictObject({
    /**
     * Where the Temporal SDK's own Prometheus exporter (worker, poller, task-slot metrics) listens, `host:port`;
     * `GET /metrics` appends what it serves. Off when absent.
     */
    sdkPrometheusAddress: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
      .optional(),
  });
  const ingest = ingestSchema(secret);

  return z
    .strictObject({
      temporal: temporalSchema.default(temporalSchema.parse({})),
      http: httpSchema.default(httpSchema.parse({})),
      /** SIEM ingestion: per-source authentication and the deduplication window (see src/ingest/config.ts). */
      ingest: ingest.default(ingest.parse({})),
      playbook: playbookSchema,
      connectors: connectorsSchema.default(connectorsSchema.parse({})),
      /** Approvals in Slack; without it the request goes to the log and approvers decide with the CLI. */
      slack: slackSchema.optional(),
      /** Local state: the dry-run ledger, reports. */
      dataDir: z.string().default('.data'),
      log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') }).default({ level: 'info' }),
      audit: auditSchema.default({}),
      metrics: metricsSchema.default({}),
    })
    .superRefine((cfg, ctx) => {
      if (cfg.playbook.approvalDeadline !== undefined && cfg.playbook.approvalDeadline < cfg.playbook.approvalTimeout) {
        ctx.addIssue({
          code: 'custom',
          path: ['playbook', 'approvalDeadline'],
          message: 'must not be earlier than playbook.approvalTimeout (the window after which the request escalates)',
        });
      }
      if (cfg.temporal.devServer.enabled && !isLoopback(cfg.temporal.address.split(':')[0] ?? '')) {
        ctx.addIssue({
          code: 'custom',
          path: ['temporal', 'devServer', 'enabled'],
          message: 'the embedded dev server listens on loopback only; set temporal.address to 127.0.0.1:<port> or disable it',
        });
      }
      if (!isLoopback(cfg.http.host)) {
        // Every SIEM route must authenticate off loopback: its own `ingest.sources.<name>.auth`, or the shared
        // `http.webhookTokens` as bearer tokens. Explicit `none` is refused too.
        let sharedReported = false;
        for (const source of INGEST_SOURCES) {
          if (resolveSourceAuth(cfg, source).type !== 'none') continue;
          const explicit = cfg.ingest.sources[source] !== undefined;
          if (!explicit && sharedReported) continue;
          sharedReported ||= !explicit;
          ctx.addIssue({
            code: 'custom',
            path: explicit ? ['ingest', 'sources', source, 'auth'] : ['http', 'webhookTokens'],
            message: explicit
              ? `"none" is only allowed when http.host is a loopback address (it is ${cfg.http.host})`
              : `required when http.host (${cfg.http.host}) is not a loopback address: nothing is unauthenticated on a network (or set ingest.sources.${source}.auth)`,
          });
        }
      }
      for (const key of ['apiTokens', 'metricsTokens'] as const) {
        if (cfg.http[key].length === 0 && !isLoopback(cfg.http.host)) {
          ctx.addIssue({
            code: 'custom',
            path: ['http', key],
            message: `required when http.host (${cfg.http.host}) is not a loopback address: nothing is unauthenticated on a network`,
          });
        }
      }
    })
    .transform((cfg) => ({
      ...cfg,
      temporal: {
        ...cfg.temporal,
        payloadCodec: {
          ...cfg.temporal.payloadCodec,
          keyFile: cfg.temporal.payloadCodec.keyFile ?? path.join(cfg.dataDir, 'payload-codec.keys'),
        },
      },
      audit: { ...cfg.audit, file: cfg.audit.file ?? path.join(cfg.dataDir, 'audit', 'audit.jsonl') },
    }));
}

export type Config = z.infer<ReturnType<typeof buildSchema>>;
export type { IngestSource };

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly details: string[],
  ) {
    super(`${message}\n${details.map((d) => `  - ${d}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Environment variables that override the file, for twelve-factor deployments. */
function applyEnvOverrides(raw: Record<string, unknown>, env: Env): Record<string, unknown> {
  const set = (keys: string[], value: unknown) => {
    let node = raw;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] ?? ''] = value;
  };
  const asBool = (v: string) => v === 'true' || v === '1';
  const overrides: [string, string[], (v: string) => unknown][] = [
    ['TEMPORAL_ADDRESS', ['temporal', 'address'], String],
    ['TEMPORAL_NAMESPACE', ['temporal', 'namespace'], String],
    ['TEMPORAL_TASK_QUEUE', ['temporal', 'taskQueue'], String],
    ['TEMPORAL_UI_URL', ['temporal', 'uiUrl'], String],
    ['TEMPORAL_API_KEY', ['temporal', 'apiKey'], String],
    ['TEMPORAL_TLS', ['temporal', 'tls', 'enabled'], asBool],
    ['TEMPORAL_TLS_SERVER_NAME', ['temporal', 'tls', 'serverName'], String],
    ['TEMPORAL_TLS_CA', ['temporal', 'tls', 'caCertFile'], String],
    ['TEMPORAL_TLS_CERT', ['temporal', 'tls', 'clientCertFile'], String],
    ['TEMPORAL_TLS_KEY', ['temporal', 'tls', 'clientKeyFile'], String],
    ['SOAR_DEV_SERVER', ['temporal', 'devServer', 'enabled'], asBool],
    ['SOAR_HTTP_HOST', ['http', 'host'], String],
    ['SOAR_HTTP_PORT', ['http', 'port'], Number],
    ['SOAR_DATA_DIR', ['dataDir'], String],
    ['LOG_LEVEL', ['log', 'level'], String],
  ];
  for (const [name, keys, convert] of overrides) {
    const value = env[name];
    if (value !== undefined && value !== '') set(keys, convert(value));
  }
  return raw;
}

export function parseConfig(raw: unknown, env: Env = process.env, origin = 'configuration'): Config {
  const base = typeof raw === 'object' && raw !== null ? structuredClone(raw as Record<string, unknown>) : {};
  const result = buildSchema(env).safeParse(applyEnvOverrides(base, env));
  if (!result.success) {
    throw new ConfigError(
      `Invalid ${origin}:`,
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}

export function loadConfig(env: Env = process.env): Config {
  const file = path.resolve(env.SOAR_CONFIG ?? DEFAULT_CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the configuration file ${file}:`, [(err as Error).message]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`The configuration file ${file} is not valid YAML:`, [(err as Error).message]);
  }
  return parseConfig(raw, env, `configuration in ${file}`);
}

/** The view of the configuration that may be logged or shown: secrets replaced. */
export function sanitizeConfig(config: Config): unknown {
  return {
    ...config,
    temporal: {
      ...config.temporal,
      apiKey: config.temporal.apiKey ? '[redacted]' : undefined,
      payloadCodec: {
        ...config.temporal.payloadCodec,
        keys: config.temporal.payloadCodec.keys.map((k) => ({ id: k.id, key: '[redacted]' })),
      },
    },
    http: {
      ...config.http,
      webhookTokens: config.http.webhookTokens.map(() => '[redacted]'),
      apiTokens: config.http.apiTokens.map(() => '[redacted]'),
      metricsTokens: config.http.metricsTokens.map(() => '[redacted]'),
    },
    connectors: { ...sanitizeSources(config.connectors), containment: sanitizeContainment(config.connectors.containment) },
    slack: config.slack ? { ...config.slack, botToken: '[redacted]', signingSecret: '[redacted]' } : undefined,
    audit: config.audit.forward
      ? {
          ...config.audit,
          forward: {
            ...config.audit.forward,
            ...('token' in config.audit.forward ? { token: '[redacted]' } : {}),
            ...('apiKey' in config.audit.forward && config.audit.forward.apiKey ? { apiKey: '[redacted]' } : {}),
          },
        }
      : config.audit,
    ingest: {
      ...config.ingest,
      sources: Object.fromEntries(
        Object.entries(config.ingest.sources).map(([name, source]) => [name, source && { ...source, auth: redactAuth(source.auth) }]),
      ),
    },
  };
}

/** Every containment secret replaced, the rest kept for the log. */
function sanitizeContainment(c: Config['connectors']['containment']): unknown {
  const r = '[redacted]';
  const { isolation, access } = c;
  return {
    ...c,
    isolation: {
      ...isolation,
      crowdstrike: isolation.crowdstrike && { ...isolation.crowdstrike, clientSecret: r },
      microsoftDefender: isolation.microsoftDefender && { ...isolation.microsoftDefender, clientSecret: r },
      sentinelone: isolation.sentinelone && { ...isolation.sentinelone, apiToken: r },
    },
    access: {
      ...access,
      microsoftGraph: access.microsoftGraph && { ...access.microsoftGraph, clientSecret: r },
      okta: access.okta && { ...access.okta, apiToken: r },
      googleWorkspace: access.googleWorkspace && { ...access.googleWorkspace, serviceAccountKey: r },
      dropbox: access.dropbox && { ...access.dropbox, accessToken: r },
    },
  };
}

function redactAuth(auth: SourceAuth): SourceAuth {
  switch (auth.type) {
    case 'standard-webhooks':
      return { ...auth, secrets: auth.secrets.map(() => '[redacted]') };
    case 'bearer':
    case 'query-token':
      return { ...auth, tokens: auth.tokens.map(() => '[redacted]') };
    default:
      return auth;
  }
}

/** Every secret value in the configuration, so loggers can redact them wherever they appear. */
export function secretsOf(config: Config): string[] {
  const forward = config.audit.forward;
  const ingestSecrets = Object.values(config.ingest.sources).flatMap((source) => {
    if (!source) return [];
    const auth = source.auth;
    if (auth.type === 'standard-webhooks') return auth.secrets.flatMap((s) => [s, s.replace(/^whsec_/, '')]);
    if (auth.type === 'bearer' || auth.type === 'query-token') return auth.tokens;
    return [];
  });
  const { isolation, access } = config.connectors.containment;
  return [
    config.temporal.apiKey,
    ...config.http.webhookTokens,
    ...config.http.apiTokens,
    ...config.http.metricsTokens,
    ...payloadKeySecrets(config.temporal.payloadCodec),
    forward?.type === 'splunk-hec' ? forward.token : forward?.apiKey,
    ...sourceSecrets(config.connectors),
    config.slack?.botToken,
    config.slack?.signingSecret,
    isolation.crowdstrike?.clientSecret,
    isolation.microsoftDefender?.clientSecret,
    isolation.sentinelone?.apiToken,
    access.microsoftGraph?.clientSecret,
    access.okta?.apiToken,
    access.googleWorkspace?.serviceAccountKey,
    access.dropbox?.accessToken,
    ...ingestSecrets,
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
}
