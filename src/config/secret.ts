/**
 * Credentials in the configuration: declared once, with `secret()`, and everything else derived from that mark.
 *
 * A secret is written as `env:NAME` (read from the environment given to the parse), `file:PATH` (read from a file)
 * or the literal value. `secretValues` (what the logger redacts) and `redactSecrets` (the view that may be logged)
 * walk the schema next to the parsed value, so a credential cannot be left off a hand-kept list: there is none.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export type Env = Record<string, string | undefined>;

export const REDACTED = '[redacted]';

interface SecretOptions {
  /** A check of the resolved value (never of the `env:` / `file:` reference). */
  check?: (value: string, ctx: z.RefinementCtx) => void;
  /** Further forms of the value the logger must redact too (e.g. the base64 part of `whsec_...`). */
  alsoRedact?: (value: string) => string[];
}

/** Each schema made by `secret()`, with its options: the one place that says "this field is a credential". */
const SECRETS = new WeakMap<z.ZodType, SecretOptions>();

/**
 * The environment references resolve against while a parse runs. Parsing is synchronous, so this is set and cleared
 * around one `safeParse` (see `withSecretEnv`) and no other parse can observe it.
 */
let parseEnv: Env | null = null;
/** The placeholders `deferSecrets` put where a secret the command does not use was written (same lifetime). */
let parseDeferred: ReadonlySet<string> | null = null;

/** Runs `parse` with `env:NAME` references resolving against `env`, and the `deferred` placeholders left as they are. */
export function withSecretEnv<T>(env: Env, parse: () => T, deferred: ReadonlySet<string> = new Set()): T {
  const outer = [parseEnv, parseDeferred] as const;
  parseEnv = env;
  parseDeferred = deferred;
  try {
    return parse();
  } finally {
    [parseEnv, parseDeferred] = outer;
  }
}

/** What a secret the command does not use holds after the parse: says why, and is no credential anywhere. */
export const unresolvedSecret = (path: string) => `[not resolved: ${path} is not used by this command]`;

/**
 * For commands that use only some of the secrets (`soar list` needs Temporal's, not the webhooks'): a copy of `raw`
 * in which every secret outside `keep` is replaced by `unresolvedSecret(path)`, and the set of those placeholders for
 * `withSecretEnv`, which leaves them unresolved and unchecked. Everything else is still validated as usual.
 */
export function deferSecrets(schema: z.ZodType, raw: unknown, keep: (path: string) => boolean): { raw: unknown; deferred: Set<string> } {
  const copy = structuredClone(raw);
  const deferred = new Set<string>();
  walkSecrets(schema, copy, [], (_v, path) => {
    const dotted = path.join('.');
    if (keep(dotted)) return;
    let node: unknown = copy;
    for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[key];
    const placeholder = unresolvedSecret(dotted);
    (node as Record<string | number, unknown>)[path[path.length - 1] ?? ''] = placeholder;
    deferred.add(placeholder);
  });
  return { raw: copy, deferred };
}

function resolveReference(value: string, ctx: z.RefinementCtx): string {
  if (value.startsWith('env:')) {
    const name = value.slice(4);
    const resolved = (parseEnv ?? {})[name];
    if (!resolved) {
      ctx.addIssue({ code: 'custom', message: `refers to environment variable ${name}, which is not set` });
      return z.NEVER;
    }
    return resolved;
  }
  if (value.startsWith('file:')) {
    try {
      return readFileSync(value.slice(5), 'utf8').trim();
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `refers to a file that cannot be read (${(err as Error).message})` });
      return z.NEVER;
    }
  }
  return value;
}

/** A credential: `env:NAME`, `file:PATH` or the literal value; listed for redaction and masked in logs by construction. */
export function secret(options: SecretOptions = {}): z.ZodType<string, string> {
  const schema = z
    .string()
    .min(1)
    .transform((v, ctx) => {
      if (parseDeferred?.has(v)) return v;
      const value = resolveReference(v, ctx);
      if (value !== z.NEVER && options.check) options.check(value, ctx);
      return value;
    });
  SECRETS.set(schema, options);
  return schema;
}

export function isSecret(schema: z.ZodType): boolean {
  return SECRETS.has(schema);
}

type AnyDef = { type: string } & Record<string, unknown>;
/** A schema's definition (zod 4 keeps it at `_zod.def`): its kind and, per kind, its parts. */
export const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: AnyDef } })._zod.def;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Calls `visit` for every secret leaf of `value` as described by `schema`, with its path. Unions are followed by the
 * discriminator when they have one, otherwise into every option (over-redacting is safe, under-redacting is not).
 */
function walkSecrets(
  schema: z.ZodType,
  value: unknown,
  path: (string | number)[],
  visit: (value: string, path: (string | number)[], options: SecretOptions) => void,
): void {
  if (value === undefined || value === null) return;
  const options = SECRETS.get(schema);
  if (options) {
    if (typeof value === 'string') visit(value, path, options);
    return;
  }
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return walkSecrets(def.innerType as z.ZodType, value, path, visit);
    case 'pipe':
      // A transform at the end of a section keeps its shape (it fills in defaults); the structure is on the way in.
      walkSecrets(def.in as z.ZodType, value, path, visit);
      if (defOf(def.out as z.ZodType).type !== 'transform') walkSecrets(def.out as z.ZodType, value, path, visit);
      return;
    case 'lazy':
      return walkSecrets((def.getter as () => z.ZodType)(), value, path, visit);
    case 'object': {
      if (!isRecord(value)) return;
      for (const [key, child] of Object.entries(def.shape as Record<string, z.ZodType>)) {
        walkSecrets(child, value[key], [...path, key], visit);
      }
      return;
    }
    case 'array':
      if (Array.isArray(value)) value.forEach((item, i) => walkSecrets(def.element as z.ZodType, item, [...path, i], visit));
      return;
    case 'record':
      if (isRecord(value))
        for (const [key, item] of Object.entries(value)) walkSecrets(def.valueType as z.ZodType, item, [...path, key], visit);
      return;
    case 'union': {
      const options = def.options as z.ZodType[];
      const discriminator = def.discriminator as string | undefined;
      const chosen =
        discriminator && isRecord(value)
          ? options.filter((o) => {
              const field = defOf(o).shape as Record<string, z.ZodType> | undefined;
              const literal = field?.[discriminator];
              return !literal || (defOf(literal).values as unknown[] | undefined)?.includes(value[discriminator]) !== false;
            })
          : options;
      for (const option of chosen) walkSecrets(option, value, path, visit);
      return;
    }
    case 'intersection':
      walkSecrets(def.left as z.ZodType, value, path, visit);
      walkSecrets(def.right as z.ZodType, value, path, visit);
      return;
    default:
      return;
  }
}

/** Every secret value in `value` (parsed with `schema`), in every form the logger must redact. */
export function secretValues(schema: z.ZodType, value: unknown): string[] {
  const out = new Set<string>();
  walkSecrets(schema, value, [], (v, _path, options) => {
    out.add(v);
    for (const form of options.alsoRedact?.(v) ?? []) if (form) out.add(form);
  });
  return [...out].filter((s) => s.length > 0);
}

/** The paths of the secrets present in `value`, e.g. `vendors.okta.auth.token`, `http.webhookTokens.0`. */
export function secretPathsIn(schema: z.ZodType, value: unknown): string[] {
  const out: string[] = [];
  walkSecrets(schema, value, [], (_v, path) => out.push(path.join('.')));
  return out;
}

/** A copy of `value` with every secret replaced by `[redacted]`. */
export function redactSecrets<T>(schema: z.ZodType, value: T): T {
  const copy = structuredClone(value);
  walkSecrets(schema, copy, [], (_v, path) => {
    let node: unknown = copy;
    for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[key];
    (node as Record<string | number, unknown>)[path[path.length - 1] ?? ''] = REDACTED;
  });
  return copy;
}
