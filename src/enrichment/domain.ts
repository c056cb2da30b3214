/**
 * The destination-domain check. It must not be fooled: hosts come from the WHATWG URL parser (never substring
 * matching), are compared lowercased in punycode with one trailing dot removed, by exact or dot-suffix match; an IP
 * literal never matches a domain; anything unparseable fails closed.
 */
import { hostCoveredBy } from '../../workflows/decide';
import type { DomainFinding } from '../contracts/playbook';

export interface ParsedHost {
  /** Lowercased A-label (punycode) form without a trailing dot. */
  host: string;
  isIpLiteral: boolean;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Parses a bare host name or an http(s) URL into its host, or returns null when it is not one unambiguous host
 * (credentials, paths or fragments on a bare name, other schemes, empty hosts).
 */
export function parseHost(input: string): ParsedHost | null {
  const trimmed = input.trim();
  if (trimmed.length === 0) return null;
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  let url: URL;
  try {
    url = new URL(hasScheme ? trimmed : `http://${trimmed}`);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!hasScheme && (url.username || url.password || url.pathname !== '/' || url.search || url.hash || trimmed.includes('/'))) {
    // A bare name that the parser had to split: "dropbox.com@evil.example", "evil.example#@dropbox.com".
    return null;
  }
  let host = url.hostname.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  // Only one trailing dot is the root; an empty label anywhere else ("dropbox.com..", "x..dropbox.com") is not a
  // DNS name and must not reach the suffix match.
  if (host.length === 0 || host.startsWith('.') || host.endsWith('.') || host.includes('..')) return null;
  return { host, isIpLiteral: host.startsWith('[') || IPV4.test(host) };
}

/** Normalises a configured domain the same way, or throws naming it. */
export function normaliseConfiguredDomain(domain: string): string {
  const parsed = parseHost(domain);
  if (!parsed || parsed.isIpLiteral) throw new Error(`"${domain}" is not a domain name`);
  return parsed.host;
}

export function checkDomain(
  destDomain: string,
  destUrl: string | null,
  approvedDomains: string[],
  services: { name: string; domains: string[] }[],
): DomainFinding {
  const fromDomain = parseHost(destDomain);
  const fromUrl = destUrl === null ? null : parseHost(destUrl);
  const primary = fromDomain ?? fromUrl;
  if (!primary) {
    return { host: destDomain.toLowerCase(), approved: false, matchedApprovedDomain: null, cloudStorageService: null, isIpLiteral: false };
  }
  // Every host the alert names must be approved: a URL that disagrees with the domain field fails closed.
  const hosts = [fromDomain, destUrl === null ? undefined : fromUrl].filter((h) => h !== undefined);
  const matchFor = (h: ParsedHost | null) =>
    h === null || h.isIpLiteral ? undefined : approvedDomains.find((d) => hostCoveredBy(h.host, d));
  const matches = hosts.map(matchFor);
  const approved = matches.every((m) => m !== undefined);
  const service = primary.isIpLiteral ? undefined : services.find((s) => s.domains.some((d) => hostCoveredBy(primary.host, d)));
  return {
    host: primary.host,
    approved,
    matchedApprovedDomain: approved ? (matches[0] ?? null) : null,
    cloudStorageService: service?.name ?? null,
    isIpLiteral: primary.isIpLiteral,
  };
}
