import { z } from 'zod';
import { identifierTextProblem } from '../identity/canonical';

/**
 * The normalized alert: every SIEM source (generic, Splunk, Elastic, Sentinel) is translated into this shape
 * before a playbook run starts. It is the contract between ingestion and the workflow.
 */

/** Identifiers that end up in workflow IDs and search attributes: printable, bounded, no spaces. */
const identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._:@-]+$/, 'may contain only letters, digits and . _ : @ -');

/**
 * No lone surrogates, control or invisible characters: such a value breaks strict JSON readers of the run (jq refuses
 * `\ud800`) and would be passed to a vendor as a containment target.
 */
const wellFormed = <T extends z.ZodType<string>>(schema: T) =>
  schema.superRefine((value, ctx) => {
    const problem = identifierTextProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const boundedText = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
/** An identifier (user, host): well-formed, no control or invisible characters. */
const shortText = (max: number) => wellFormed(boundedText(max));
/** Free text (a rule name may hold a line break): only text that is not valid Unicode is refused. */
const freeText = (max: number) =>
  boundedText(max).superRefine((value, ctx) => {
    const problem = identifierTextProblem(value);
    if (problem?.startsWith('is not valid Unicode')) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A host name as a SIEM reports it (an FQDN or bare name); checked strictly by the domain enrichment later. */
const destinationDomain = wellFormed(
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(253, 'must be at most 253 characters')
    .refine((v) => !/[\s/\\?#@]/.test(v), 'must be a host name, not a URL (put URLs in destUrl)'),
);

const isoTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone (e.g. 2026-11-28T02:14:00Z)' })
  .transform((v) => new Date(v).toISOString());

export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export const severitySchema = z.enum(SEVERITIES, { message: `must be one of ${SEVERITIES.join(', ')}` });

export const ALERT_SOURCES = ['generic', 'splunk', 'elastic', 'sentinel'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/** Fields every source must supply, under the normalized names. */
export const alertFieldsSchema = z.strictObject({
  alertId: identifier,
  user: shortText(256),
  host: shortText(256),
  srcIp: z.union([z.ipv4(), z.ipv6()], { message: 'must be an IPv4 or IPv6 address' }),
  destDomain: destinationDomain,
  destUrl: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .max(2048, 'must be at most 2048 characters')
    .optional(),
  bytesOut: z
    .number({ message: 'must be a number of bytes' })
    .int('must be a whole number of bytes')
    .nonnegative('must not be negative')
    .max(Number.MAX_SAFE_INTEGER, 'is too large'),
  eventTime: isoTime,
  severity: severitySchema,
  ruleName: freeText(256),
});

export const normalizedAlertSchema = alertFieldsSchema.extend({
  /**
   * The user exactly as the SIEM sent it (`CORP\\jdoe`, `jdoe@corp.example`), kept as evidence when it differs from
   * `user`, which is the canonical identity (src/identity/canonical.ts) every comparison and lookup uses.
   */
  userAsSent: z.string().optional(),
  source: z.enum(ALERT_SOURCES),
  /** The original payload as received, kept as evidence. */
  raw: z.unknown(),
});
export type NormalizedAlert = z.infer<typeof normalizedAlertSchema>;

/** The body of `POST /webhooks/siem/generic`: the normalized fields, nothing else. */
export const genericWebhookBodySchema = alertFieldsSchema;
export type GenericWebhookBody = z.infer<typeof genericWebhookBodySchema>;

/** Event times further than this from now are rejected as implausible (clock skew or a malformed SIEM field). */
export const MAX_EVENT_TIME_SKEW_MS = 366 * 24 * 3600 * 1000;
