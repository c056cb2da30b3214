/**
 * The configuration keys of the previous release, read and translated into the current shape until the next release.
 *
 * Before, each capability carried its own copy of the vendor's connection (Okta under `connectors.hr` and again under
 * `connectors.containment.access.okta`, Entra ID three times). Now `vendors` holds one block per vendor and each
 * capability names the vendor that serves it. Every legacy key read gives one deprecation naming its replacement;
 * two keys that now mean the same setting must agree, or the configuration is refused naming both.
 */
import { isDeepStrictEqual } from 'node:util';
import { durationMs } from './duration';

export interface Deprecation {
  /** The legacy key, e.g. `connectors.hr`. */
  key: string;
  /** Where its settings live now. */
  replacement: string;
  message: string;
}

export interface Translation {
  raw: Record<string, unknown>;
  deprecations: Deprecation[];
  /** Settings given twice with different values (legacy and current, or two legacy keys that merged). */
  conflicts: string[];
  /** The key the user wrote for a translated setting, so errors name what is in their file. */
  writtenAs(path: PropertyKey[]): string | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function get(root: unknown, path: string): unknown {
  let node = root;
  for (const key of path.split('.')) {
    if (!isObj(node)) return undefined;
    node = node[key];
  }
  return node;
}

function set(root: Obj, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = root;
  for (const key of keys.slice(0, -1)) {
    if (!isObj(node[key])) node[key] = {};
    node = node[key] as Obj;
  }
  node[keys[keys.length - 1] ?? ''] = value;
}

/** Timeouts were `timeoutMs: 15000` in one place and `requestTimeout: 15s` in another: compare them as milliseconds. */
function normalize(target: string, value: unknown): unknown {
  if (!target.endsWith('.requestTimeout')) return value;
  const ms = durationMs.safeParse(value);
  return ms.success ? ms.data : value;
}

/** Where each key of a legacy block goes; keys not listed go under `rest`. */
interface BlockMap {
  fields: Record<string, string>;
  rest: string;
}

class Translator {
  readonly out: Obj;
  readonly deprecations: Deprecation[] = [];
  readonly conflicts: string[] = [];
  /** New path -> the legacy key that set it. */
  private readonly origins = new Map<string, string>();

  constructor(private readonly input: Obj) {
    this.out = structuredClone(input);
  }

  /** Puts one legacy setting at its new place, refusing a different value already there. */
  put(legacyKey: string, target: string, value: unknown): void {
    if (value === undefined) return;
    const normalized = normalize(target, value);
    const current = get(this.input, target);
    if (current !== undefined) {
      if (!isDeepStrictEqual(normalize(target, current), normalized)) {
        this.conflicts.push(`${legacyKey} (deprecated) and ${target} are both set, to different values; remove ${legacyKey}`);
      }
      if (!this.origins.has(target)) this.origins.set(target, legacyKey);
      return;
    }
    const earlier = this.origins.get(target);
    if (earlier !== undefined) {
      if (!isDeepStrictEqual(get(this.out, target), normalized)) {
        this.conflicts.push(
          `${legacyKey} and ${earlier} both configure ${target} (one block per vendor now) with different values; make them agree, or move to ${target}`,
        );
      }
      return;
    }
    set(this.out, target, normalized);
    this.origins.set(target, legacyKey);
  }

  /** Moves a legacy block by its map; the block's own base is remembered so errors about the block name it. */
  block(legacyKey: string, block: Obj, map: BlockMap): void {
    for (const [key, value] of Object.entries(block)) {
      this.put(`${legacyKey}.${key}`, map.fields[key] ?? `${map.rest}.${key}`, value);
    }
    if (get(this.input, map.rest) === undefined && !this.origins.has(map.rest)) this.origins.set(map.rest, legacyKey);
    if (get(this.out, map.rest) === undefined) set(this.out, map.rest, {});
  }

  deprecate(key: string, replacement: string, note = ''): void {
    this.deprecations.push({
      key,
      replacement,
      message: `${key} is deprecated and is read only until the next release: use ${replacement} instead${note ? ` (${note})` : ''}`,
    });
  }

  writtenAs(path: PropertyKey[]): string | undefined {
    const keys = path.map(String);
    for (let n = keys.length; n > 0; n--) {
      const origin = this.origins.get(keys.slice(0, n).join('.'));
      if (origin !== undefined) return [origin, ...keys.slice(n)].join('.');
    }
    return undefined;
  }
}

const entra = (extra: Record<string, string> = {}) => ({
  tenantId: 'vendors.microsoftEntra.tenantId',
  clientId: 'vendors.microsoftEntra.clientId',
  clientSecret: 'vendors.microsoftEntra.clientSecret',
  ...extra,
});

/** The enrichment sources: `connectors.<capability>: { type, ...connection, ...settings }`. */
const SOURCES: Record<string, { vendor: string; type: string; fields: Record<string, string> }> = {
  hr: { type: 'okta', vendor: 'okta', fields: { orgUrl: 'orgUrl', auth: 'auth' } },
  changes: { type: 'servicenow', vendor: 'servicenow', fields: { instanceUrl: 'instanceUrl', auth: 'auth' } },
  devices: {
    type: 'intune',
    vendor: 'microsoftEntra',
    fields: {
      tenantId: 'tenantId',
      clientId: 'clientId',
      clientSecret: 'clientSecret',
      authorityUrl: 'authorityUrl',
      graphUrl: 'graphUrl',
    },
  },
  baselines: { type: 'elasticsearch', vendor: 'elasticsearch', fields: { url: 'url', apiKey: 'apiKey' } },
};

function translateSources(t: Translator, connectors: Obj): void {
  for (const [capability, source] of Object.entries(SOURCES)) {
    const block = connectors[capability];
    if (block === undefined) continue;
    const legacyKey = `connectors.${capability}`;
    if (!isObj(block)) {
      t.put(legacyKey, `enrichment.${capability}`, block);
      continue;
    }
    const fields: Record<string, string> = { type: `enrichment.${capability}.source` };
    if (block.type === source.type) {
      for (const [from, to] of Object.entries(source.fields)) fields[from] = `vendors.${source.vendor}.${to}`;
      fields.timeoutMs = `vendors.${source.vendor}.requestTimeout`;
    }
    t.block(legacyKey, block, { fields, rest: `enrichment.${capability}` });
    t.deprecate(
      legacyKey,
      block.type === source.type
        ? `enrichment.${capability} (source: ${source.type}) and vendors.${source.vendor}`
        : `enrichment.${capability}`,
      block.type === source.type ? '`type` is now `source`; timeoutMs is vendors.<vendor>.requestTimeout' : '`type` is now `source`',
    );
  }
}

/** Each legacy containment vendor block: where its keys go, and the vendor it now configures. */
const CONTAINMENT_BLOCKS: { key: string; vendor: string; map: BlockMap; okta?: true }[] = [
  {
    key: 'isolation.crowdstrike',
    vendor: 'crowdstrike',
    map: { fields: {}, rest: 'vendors.crowdstrike' },
  },
  {
    key: 'isolation.microsoftDefender',
    vendor: 'microsoftEntra',
    map: {
      fields: entra({
        tokenUrl: 'vendors.microsoftEntra.tokenUrl',
        baseUrl: 'vendors.microsoftEntra.defenderUrl',
        scope: 'vendors.microsoftEntra.defenderScope',
      }),
      rest: 'containment.isolation.microsoftDefender',
    },
  },
  { key: 'isolation.sentinelone', vendor: 'sentinelone', map: { fields: {}, rest: 'vendors.sentinelone' } },
  {
    key: 'access.microsoftGraph',
    vendor: 'microsoftEntra',
    map: {
      fields: entra({ tokenUrl: 'vendors.microsoftEntra.tokenUrl', baseUrl: 'vendors.microsoftEntra.graphUrl' }),
      rest: 'containment.access.microsoftGraph',
    },
  },
  {
    key: 'access.okta',
    vendor: 'okta',
    map: { fields: { orgUrl: 'vendors.okta.orgUrl' }, rest: 'containment.access.okta' },
    okta: true,
  },
  {
    key: 'access.googleWorkspace',
    vendor: 'googleWorkspace',
    map: {
      fields: {
        baseUrl: 'vendors.googleWorkspace.baseUrl',
        serviceAccountKey: 'vendors.googleWorkspace.serviceAccountKey',
        subject: 'vendors.googleWorkspace.subject',
        tokenUri: 'vendors.googleWorkspace.tokenUri',
      },
      rest: 'containment.access.googleWorkspace',
    },
  },
  {
    key: 'access.dropbox',
    vendor: 'dropbox',
    map: { fields: { baseUrl: 'vendors.dropbox.baseUrl', accessToken: 'vendors.dropbox.accessToken' }, rest: 'containment.access.dropbox' },
  },
];

function translateContainment(t: Translator, containment: unknown): void {
  const base = 'connectors.containment';
  if (!isObj(containment)) {
    t.put(base, 'containment', containment);
    return;
  }
  const vendorsUsed = new Set<string>();
  for (const { key, vendor, map, okta } of CONTAINMENT_BLOCKS) {
    const block = get(containment, key);
    if (block === undefined) continue;
    const legacyKey = `${base}.${key}`;
    if (!isObj(block)) {
      t.put(legacyKey, map.rest, block);
      continue;
    }
    const { apiToken, ...rest } = block;
    if (okta && apiToken !== undefined) t.put(`${legacyKey}.apiToken`, 'vendors.okta.auth', { type: 'ssws', token: apiToken });
    t.block(legacyKey, okta ? rest : block, map);
    vendorsUsed.add(vendor);
    const capability = map.rest.startsWith('containment.') ? ` and ${map.rest}` : '';
    t.deprecate(legacyKey, `vendors.${vendor}${capability}`, okta ? 'apiToken is now auth: { type: ssws, token }' : '');
  }
  for (const part of ['isolation', 'access'] as const) {
    const block = containment[part];
    if (block === undefined) continue;
    if (!isObj(block)) {
      t.put(`${base}.${part}`, `containment.${part}`, block);
      continue;
    }
    const settings = Object.entries(block).filter(([k]) => !CONTAINMENT_BLOCKS.some((b) => b.key === `${part}.${k}`));
    for (const [k, v] of settings) t.put(`${base}.${part}.${k}`, `containment.${part}.${k}`, v);
    if (settings.length > 0) t.deprecate(`${base}.${part}`, `containment.${part}`);
  }
  if (containment.requestTimeout !== undefined) {
    for (const vendor of vendorsUsed) t.put(`${base}.requestTimeout`, `vendors.${vendor}.requestTimeout`, containment.requestTimeout);
    t.deprecate(`${base}.requestTimeout`, 'vendors.<vendor>.requestTimeout', 'one timeout per vendor');
  }
  for (const key of Object.keys(containment)) {
    if (!['isolation', 'access', 'requestTimeout'].includes(key)) t.conflicts.push(`${base}: Unrecognized key: "${key}"`);
  }
}

function translateAuditForward(t: Translator, forward: Obj): void {
  const legacyKey = 'audit.forward';
  const { type, ...rest } = forward;
  if (type === 'splunk-hec') {
    t.block(legacyKey, rest, {
      fields: { url: 'vendors.splunk.hecUrl', token: 'vendors.splunk.hecToken' },
      rest: 'audit.forward',
    });
    t.put(`${legacyKey}.type`, 'audit.forward.to', 'splunk');
    t.deprecate(`${legacyKey}.type`, 'audit.forward.to: splunk and vendors.splunk (hecUrl, hecToken)');
  } else if (type === 'elasticsearch') {
    t.block(legacyKey, rest, {
      fields: { url: 'vendors.elasticsearch.url', apiKey: 'vendors.elasticsearch.apiKey' },
      rest: 'audit.forward',
    });
    t.put(`${legacyKey}.type`, 'audit.forward.to', 'elasticsearch');
    t.deprecate(`${legacyKey}.type`, 'audit.forward.to: elasticsearch and vendors.elasticsearch (url, apiKey)');
  } else {
    t.block(legacyKey, rest, { fields: {}, rest: 'audit.forward' });
    t.put(`${legacyKey}.type`, 'audit.forward.to', type);
  }
}

/** Reads the legacy keys of `raw` into the current shape. `raw` itself is not changed. */
export function translateLegacy(raw: Obj): Translation {
  const forward = get(raw, 'audit.forward');
  const legacyForward = isObj(forward) && 'type' in forward;
  // The legacy `audit.forward` sits where the current one goes: it is not a current key set alongside.
  const t = new Translator(legacyForward ? { ...raw, audit: { ...(raw.audit as Obj), forward: undefined } } : raw);
  const connectors = raw.connectors;
  if (connectors !== undefined) {
    delete t.out.connectors;
    if (!isObj(connectors)) {
      t.conflicts.push('connectors: deprecated; see vendors, enrichment and containment');
    } else {
      if (connectors.dataDir !== undefined) {
        t.put('connectors.dataDir', 'enrichment.dataDir', connectors.dataDir);
        t.deprecate('connectors.dataDir', 'enrichment.dataDir');
      }
      translateSources(t, connectors);
      if (connectors.containment !== undefined) translateContainment(t, connectors.containment);
      for (const key of Object.keys(connectors)) {
        if (!['dataDir', 'containment', ...Object.keys(SOURCES)].includes(key)) t.conflicts.push(`connectors: Unrecognized key: "${key}"`);
      }
    }
  }
  if (legacyForward) translateAuditForward(t, forward);
  return {
    raw: t.out,
    deprecations: t.deprecations,
    conflicts: t.conflicts,
    writtenAs: (path) => t.writtenAs(path),
  };
}
