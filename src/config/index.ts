/**
 * The configuration: one zod schema for the configuration file plus environment overrides, parsed once at start.
 * Errors name the key. Credentials are declared once, with `secret()` (src/config/secret.ts), and may be given as
 * `env:NAME` or `file:/path` references so the file itself holds none; `sanitizeConfig` (the view that may be logged)
 * and `secretsOf` (what the logger redacts) are derived from those declarations.
 *
 * The sections live one per file next to this one; docs/configuration.md is the reference, checked against the schema.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { generatedPayloadKeySecrets } from '../temporal/payload-codec';
import { type Deprecation, translateLegacy } from './legacy';
import { type Config, configSchema } from './schema';
import { deferSecrets, type Env, redactSecrets, secretValues, withSecretEnv } from './secret';

export type { IngestSource } from '../ingest/config';
export { ACCESS_PROVIDERS, ISOLATION_PROVIDERS } from './containment';
export { durationMs } from './duration';
export type { Deprecation } from './legacy';
export { configSchema, type Config } from './schema';
export type { Env } from './secret';

export const DEFAULT_CONFIG_PATH = 'config/soar.yaml';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly details: string[],
  ) {
    super(`${message}\n${details.map((d) => `  - ${d}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** A parsed configuration and the legacy keys it used, each with its replacement: the caller logs them. */
export interface LoadedConfig {
  config: Config;
  deprecations: Deprecation[];
}

/** Environment variables that override the file, for twelve-factor deployments. */
const ENV_OVERRIDES: [string, string[], (v: string) => unknown][] = [
  ['TEMPORAL_ADDRESS', ['temporal', 'address'], String],
  ['TEMPORAL_NAMESPACE', ['temporal', 'namespace'], String],
  ['TEMPORAL_TASK_QUEUE', ['temporal', 'taskQueue'], String],
  ['TEMPORAL_UI_URL', ['temporal', 'uiUrl'], String],
  ['TEMPORAL_API_KEY', ['temporal', 'apiKey'], String],
  ['TEMPORAL_TLS', ['temporal', 'tls', 'enabled'], (v) => v === 'true' || v === '1'],
  ['TEMPORAL_TLS_SERVER_NAME', ['temporal', 'tls', 'serverName'], String],
  ['TEMPORAL_TLS_CA', ['temporal', 'tls', 'caCertFile'], String],
  ['TEMPORAL_TLS_CERT', ['temporal', 'tls', 'clientCertFile'], String],
  ['TEMPORAL_TLS_KEY', ['temporal', 'tls', 'clientKeyFile'], String],
  ['SOAR_DEV_SERVER', ['temporal', 'devServer', 'enabled'], (v) => v === 'true' || v === '1'],
  ['SOAR_HTTP_HOST', ['http', 'host'], String],
  ['SOAR_HTTP_PORT', ['http', 'port'], Number],
  ['SOAR_DATA_DIR', ['dataDir'], String],
  ['LOG_LEVEL', ['log', 'level'], String],
];

function applyEnvOverrides(raw: Record<string, unknown>, env: Env): Record<string, unknown> {
  for (const [name, keys, convert] of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let node = raw;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] ?? ''] = convert(value);
  }
  return raw;
}

export interface ReadOptions {
  /**
   * The secrets to resolve, by path prefix (`temporal` for every secret under `temporal.`); the others stay
   * unresolved placeholders (`unresolvedSecret`), so a command needs in its environment only the secrets it uses.
   * Default: all.
   */
  secrets?: string[];
}

const inScope = (prefixes: string[]) => (path: string) => prefixes.some((p) => path === p || path.startsWith(`${p}.`));

/** Parses a configuration (current or legacy keys), resolving secrets against `env`; reports the legacy keys used. */
export function readConfig(raw: unknown, env: Env = process.env, origin = 'configuration', options: ReadOptions = {}): LoadedConfig {
  const base = typeof raw === 'object' && raw !== null ? structuredClone(raw as Record<string, unknown>) : {};
  const legacy = translateLegacy(applyEnvOverrides(base, env));
  if (legacy.conflicts.length > 0) throw new ConfigError(`Invalid ${origin}:`, legacy.conflicts);
  const scoped = options.secrets
    ? deferSecrets(configSchema, legacy.raw, inScope(options.secrets))
    : { raw: legacy.raw, deferred: new Set<string>() };
  const result = withSecretEnv(env, () => configSchema.safeParse(scoped.raw), scoped.deferred);
  if (!result.success) {
    throw new ConfigError(
      `Invalid ${origin}:`,
      result.error.issues.map((i) => `${legacy.writtenAs(i.path) ?? (i.path.join('.') || '(root)')}: ${i.message}`),
    );
  }
  return { config: result.data, deprecations: legacy.deprecations };
}

export function parseConfig(raw: unknown, env: Env = process.env, origin = 'configuration'): Config {
  return readConfig(raw, env, origin).config;
}

/** Reads the file named by SOAR_CONFIG (default config/soar.yaml). */
export function readConfigFile(env: Env = process.env, options: ReadOptions = {}): LoadedConfig {
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
  return readConfig(raw, env, `configuration in ${file}`, options);
}

export function loadConfig(env: Env = process.env): Config {
  return readConfigFile(env).config;
}

/** The view of the configuration that may be logged or shown: every `secret()` field replaced. */
export function sanitizeConfig(config: Config): Config {
  return redactSecrets(configSchema, config);
}

/**
 * Every secret value in the configuration, so loggers can redact them wherever they appear: every `secret()` field,
 * plus the payload keys `npm start` generated into the key file (key material that is not in the configuration).
 */
export function secretsOf(config: Config): string[] {
  return [...new Set([...secretValues(configSchema, config), ...generatedPayloadKeySecrets(config.temporal.payloadCodec)])];
}
