/**
 * `identity`: which domains and NetBIOS names are the organisation's, so `jdoe@corp.example` and `CORP\jdoe` are read
 * as the same person as `jdoe` (src/identity/canonical.ts). An account of any other domain is a different person.
 *
 * ```yaml
 * identity:
 *   domains: [corp.example, corp-mail.example]   # UPN and e-mail suffixes, and DNS names before a backslash
 *   netbiosNames: [CORP]                         # down-level logon names: CORP\jdoe
 * ```
 */
import { z } from 'zod';

const dnsDomain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]\.?$/,
    'must be a DNS domain such as corp.example',
  );
const netbiosName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9!#$%&'()\-^_{}~.]{0,14}$/, 'must be a NetBIOS domain name (1 to 15 characters) such as CORP');

export const identitySection = z.strictObject({
  domains: z.array(dnsDomain).default(['corp.example']),
  netbiosNames: z.array(netbiosName).default(['CORP']),
});
