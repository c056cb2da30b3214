/**
 * The case key: the user and the destination service. Alerts with the same key join one open case. The service is
 * the cloud-storage service the destination belongs to in the catalog (so www.dropbox.com and
 * dl.dropboxusercontent.com are both "Dropbox"), else the destination's registrable domain.
 */
import { createHash } from 'node:crypto';
import type { NormalizedAlert } from '../contracts/alert';
import type { CloudStorageCatalog } from '../contracts/ports';
import { parseHost } from '../enrichment/domain';
import { hostCoveredBy } from '../../workflows/decide';

export interface CaseKey {
  user: string;
  service: string;
}

/** Second-level labels under which registrations happen one level deeper (acme.co.uk, not co.uk). */
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'ac', 'edu', 'ne', 'or', 'go']);

export function registrableDomain(host: string): string {
  const labels = host.split('.').filter(Boolean);
  if (labels.length <= 2) return labels.join('.');
  const [sld, tld] = labels.slice(-2);
  const take = tld !== undefined && tld.length === 2 && sld !== undefined && SECOND_LEVEL.has(sld) ? 3 : 2;
  return labels.slice(-take).join('.');
}

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60) || 'unknown';

export type ServiceCatalog = Pick<CloudStorageCatalog, 'knownServices'>;

/**
 * Reads the catalog at most every few seconds: it is a file read per lookup, and a burst of alerts should not
 * become a burst of reads. A catalog that cannot be read falls back to the registrable domain, never to a lost alert.
 */
export class CaseKeys {
  private cached: { at: number; services: { name: string; domains: string[] }[] } | null = null;

  constructor(
    private readonly catalog: ServiceCatalog | null,
    private readonly onCatalogError: (err: unknown) => void = () => {},
    private readonly ttlMs = 5_000,
  ) {}

  private async services(): Promise<{ name: string; domains: string[] }[]> {
    if (!this.catalog) return [];
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.services;
    try {
      const services = await this.catalog.knownServices();
      this.cached = { at: now, services };
      return services;
    } catch (err) {
      this.onCatalogError(err);
      return this.cached?.services ?? [];
    }
  }

  async of(alert: Pick<NormalizedAlert, 'user' | 'destDomain'>): Promise<CaseKey> {
    const host = parseHost(alert.destDomain)?.host ?? alert.destDomain.trim().toLowerCase();
    const match = (await this.services()).find((s) => s.domains.some((d) => hostCoveredBy(host, d)));
    return { user: alert.user.trim().toLowerCase(), service: match ? slug(match.name) : registrableDomain(host) };
  }
}

/** The case index's workflow ID: readable service and user, plus a hash of the exact user so no two users collide. */
export function caseIndexIdFor(key: CaseKey): string {
  const hash = createHash('sha256').update(`${key.user}\n${key.service}`, 'utf8').digest('hex').slice(0, 12);
  return `t1567-002-cases-${slug(key.service)}-${slug(key.user).slice(0, 40)}-${hash}`;
}
