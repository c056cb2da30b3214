/** Shared-secret comparison for every inbound credential (API tokens, SIEM webhook tokens). */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Constant-time membership test: hashing first makes every comparison the same length. */
export function tokenMatches(candidate: string, accepted: string[]): boolean {
  const c = digest(candidate);
  let ok = false;
  for (const token of accepted) ok = timingSafeEqual(c, digest(token)) || ok;
  return ok;
}
