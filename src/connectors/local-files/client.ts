/**
 * File-backed sources: the embedded default. Each call checks the file's modification time and size, and reads and
 * validates it again only when they changed, so edits apply to the next run without a restart while a burst of
 * lookups does not parse the same YAML over and over; a malformed file is a ConnectorConfigurationError naming the
 * file and the key.
 */
import { canonicalName, NO_ORG, type OrgIdentity } from '../../identity/canonical';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { BaselineFinding, DeviceFinding, HrFinding, PolicyChangeRecord } from '../../contracts/playbook';
import type { ChangeRecords, CloudStorageCatalog, DayQuery, DeviceInventory, HrDirectory, UploadBaselines } from '../../contracts/ports';
import { localDayOf } from '../../enrichment/local-day';
import { normaliseConfiguredDomain } from '../../enrichment/domain';
import { ConnectorConfigurationError } from '../errors';
import {
  cloudStorageFileSchema,
  devicesFileSchema,
  hrDirectoryFileSchema,
  policyChangesFileSchema,
  uploadBaselinesFileSchema,
} from './schemas';

const PROVIDER = 'local-files';

interface Parsed {
  /** What identifies this version of the file: a change of any of these means it was edited or replaced. */
  version: string;
  data: Promise<unknown>;
}

/** Parsed files by path and schema; a file that fails to parse is not cached, so the next call reports it afresh. */
const parsedFiles = new Map<string, WeakMap<z.ZodType, Parsed>>();

async function parseDataFile<S extends z.ZodType>(full: string, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(full, 'utf8'));
  } catch (err) {
    throw new ConnectorConfigurationError(PROVIDER, `cannot read ${full}: ${(err as Error).message}`, { cause: err });
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConnectorConfigurationError(PROVIDER, `${full} is invalid: ${issues}`);
  }
  return result.data;
}

async function readDataFile<S extends z.ZodType>(dir: string, file: string, schema: S): Promise<z.infer<S>> {
  const full = path.join(dir, file);
  let version: string;
  try {
    const s = await stat(full, { bigint: true });
    version = `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err) {
    throw new ConnectorConfigurationError(PROVIDER, `cannot read ${full}: ${(err as Error).message}`, { cause: err });
  }
  let bySchema = parsedFiles.get(full);
  if (!bySchema) parsedFiles.set(full, (bySchema = new WeakMap()));
  const cached = bySchema.get(schema);
  if (cached?.version === version) return cached.data as Promise<z.infer<S>>;
  const data = parseDataFile(full, schema);
  const entry: Parsed = { version, data };
  bySchema.set(schema, entry);
  data.catch(() => {
    if (bySchema.get(schema) === entry) bySchema.delete(schema);
  });
  return data;
}

/** How reading one data file ahead went (`warm()`): it is then cached until it changes. */
export interface WarmedFile {
  file: string;
  ok: boolean;
  ms: number;
  /** Why it could not be read; the lookups that need it report the same. */
  error?: string;
}

async function warmDataFile(dir: string, file: string, schema: z.ZodType): Promise<WarmedFile> {
  const t0 = performance.now();
  try {
    await readDataFile(dir, file, schema);
    return { file: path.join(dir, file), ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { file: path.join(dir, file), ok: false, ms: Math.round(performance.now() - t0), error: (err as Error).message };
  }
}

type HrEntry = z.infer<typeof hrDirectoryFileSchema>['users'][number];
type DeviceEntry = z.infer<typeof devicesFileSchema>['devices'][number];
type BaselineEntry = z.infer<typeof uploadBaselinesFileSchema>['baselines'][number];

/**
 * A parsed list's entries by key, built once per parse of its file (a lookup is then one map read, not a scan of a
 * directory of thousands); the first entry of a key wins, as a scan would find it. Null keys are left out.
 */
function indexBy<T>(cache: WeakMap<T[], Map<string, T>>, list: T[], keyOf: (entry: T) => string | null): Map<string, T> {
  let index = cache.get(list);
  if (!index) {
    index = new Map();
    for (const entry of list) {
      const key = keyOf(entry);
      if (key !== null && !index.has(key)) index.set(key, entry);
    }
    cache.set(list, index);
  }
  return index;
}

export class FileCloudStorageCatalog implements CloudStorageCatalog {
  readonly name = `${PROVIDER}:cloud-storage.yaml`;
  constructor(private readonly dir: string) {}

  /** Reads and validates the file now (at start-up), so the first lookups of a burst find it parsed. */
  warm(): Promise<WarmedFile> {
    return warmDataFile(this.dir, 'cloud-storage.yaml', cloudStorageFileSchema);
  }

  private async load() {
    const data = await readDataFile(this.dir, 'cloud-storage.yaml', cloudStorageFileSchema);
    try {
      return {
        approvedDomains: data.approvedDomains.map(normaliseConfiguredDomain),
        services: data.services.map((s) => ({ name: s.name, domains: s.domains.map(normaliseConfiguredDomain) })),
      };
    } catch (err) {
      throw new ConnectorConfigurationError(PROVIDER, `cloud-storage.yaml: ${(err as Error).message}`, { cause: err });
    }
  }

  async approvedDomains(): Promise<string[]> {
    return (await this.load()).approvedDomains;
  }

  async knownServices(): Promise<{ name: string; domains: string[] }[]> {
    return (await this.load()).services;
  }
}

export class FileHrDirectory implements HrDirectory {
  readonly name = `${PROVIDER}:hr-directory.yaml`;
  private readonly byName = new WeakMap<HrEntry[], Map<string, HrEntry>>();
  /** `identity`: the organisation's domains, so a record written `jdoe@corp.example` is found for `jdoe`. */
  constructor(
    private readonly dir: string,
    private readonly identity: OrgIdentity = NO_ORG,
  ) {}

  /** Reads and validates the file now (at start-up), so the first lookups of a burst find it parsed. */
  warm(): Promise<WarmedFile> {
    return warmDataFile(this.dir, 'hr-directory.yaml', hrDirectoryFileSchema);
  }

  async lookupUser(user: string): Promise<HrFinding | null> {
    const data = await readDataFile(this.dir, 'hr-directory.yaml', hrDirectoryFileSchema);
    const wanted = canonicalName(user, this.identity);
    if (wanted === null) return null;
    return indexBy(this.byName, data.users, (u) => canonicalName(u.user, this.identity)).get(wanted) ?? null;
  }
}

export class FileDeviceInventory implements DeviceInventory {
  readonly name = `${PROVIDER}:devices.yaml`;
  private readonly byHost = new WeakMap<DeviceEntry[], Map<string, DeviceEntry>>();
  constructor(private readonly dir: string) {}

  /** Reads and validates the file now (at start-up), so the first lookups of a burst find it parsed. */
  warm(): Promise<WarmedFile> {
    return warmDataFile(this.dir, 'devices.yaml', devicesFileSchema);
  }

  async lookupDevice(host: string): Promise<DeviceFinding | null> {
    const data = await readDataFile(this.dir, 'devices.yaml', devicesFileSchema);
    return indexBy(this.byHost, data.devices, (d) => d.host.toLowerCase()).get(host.toLowerCase()) ?? null;
  }
}

export class FileUploadBaselines implements UploadBaselines {
  readonly name = `${PROVIDER}:upload-baselines.yaml`;
  private readonly byUser = new WeakMap<BaselineEntry[], Map<string, BaselineEntry>>();
  constructor(private readonly dir: string) {}

  /** Reads and validates the file now (at start-up), so the first lookups of a burst find it parsed. */
  warm(): Promise<WarmedFile> {
    return warmDataFile(this.dir, 'upload-baselines.yaml', uploadBaselinesFileSchema);
  }

  /**
   * The file's 30 days; with `day`, the event's local day so far: the file's `uploadsByDate` for that date plus the
   * uploads of the alerts the playbook has recorded for the user that day before the event (the file knows nothing
   * newer than its last edit, the recorded alerts fill in the day).
   */
  async baselineFor(user: string, asOf?: string, day?: DayQuery): Promise<BaselineFinding | null> {
    const data = await readDataFile(this.dir, 'upload-baselines.yaml', uploadBaselinesFileSchema);
    const entry = indexBy(this.byUser, data.baselines, (b) => b.user.toLowerCase()).get(user.toLowerCase());
    if (!entry) return null;
    const days = entry.dailyBytes.length;
    const mean = days ? entry.dailyBytes.reduce((a, b) => a + b, 0) / days : 0;
    const variance = days ? entry.dailyBytes.reduce((a, b) => a + (b - mean) ** 2, 0) / days : 0;
    const stats = { user: entry.user, days, meanBytes: Math.round(mean), stdDevBytes: Math.round(Math.sqrt(variance)) };
    if (!day) return stats;
    const at = asOf === undefined ? new Date() : new Date(asOf);
    if (Number.isNaN(at.getTime())) throw new ConnectorConfigurationError(PROVIDER, `invalid event time "${asOf}"`);
    const local = localDayOf(at, day.timezone);
    const recorded = await day.recorded.uploadsOf(user, { from: local.start, to: at.toISOString() });
    const fromFile = entry.uploadsByDate?.[local.date] ?? 0;
    return {
      ...stats,
      day: {
        timezone: day.timezone,
        timezoneSource: day.timezoneSource,
        date: local.date,
        start: local.start,
        end: local.end,
        priorBytes: fromFile + recorded.reduce((sum, u) => sum + u.bytesOut, 0),
        priorFrom: `${this.name} (${fromFile} bytes on ${local.date}) + ${recorded.length} alert(s) recorded by ${day.recorded.name}`,
      },
    };
  }
}

export class FileChangeRecords implements ChangeRecords {
  readonly name = `${PROVIDER}:policy-changes.yaml`;
  constructor(private readonly dir: string) {}

  /** Reads and validates the file now (at start-up), so the first lookups of a burst find it parsed. */
  warm(): Promise<WarmedFile> {
    return warmDataFile(this.dir, 'policy-changes.yaml', policyChangesFileSchema);
  }

  async listCloudStorageChanges(window: { since: string; until: string }): Promise<PolicyChangeRecord[]> {
    const data = await readDataFile(this.dir, 'policy-changes.yaml', policyChangesFileSchema);
    const since = Date.parse(window.since);
    const until = Date.parse(window.until);
    // A change is "recent" when its validity overlaps the window.
    return data.changes.filter((c) => Date.parse(c.validFrom) <= until && (c.validTo === null || Date.parse(c.validTo) >= since));
  }
}
