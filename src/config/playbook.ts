/** `playbook`: the policy a run snapshots at start (approval timing and approvers, decision thresholds, guard rails). */
import { z } from 'zod';
import { DEFAULT_DECISION_POLICY } from '../../workflows/decide';
import { isValidTimezone } from '../enrichment/business-hours';
import { durationMs, optionalDurationMs } from './duration';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like 09:00');
const timezone = z.string().refine(isValidTimezone, 'must be an IANA time zone such as Europe/Berlin');
const approver = z.strictObject({ id: z.string().min(1), name: z.string().min(1) });

export const playbookSection = z.strictObject({
  /** The approval window; after it the request escalates (when approvalDeadline leaves time for that). */
  approvalTimeout: durationMs.default(30 * 60_000),
  /** The final deadline, counted from the request; defaults to approvalTimeout (no escalation stage). */
  approvalDeadline: durationMs.optional(),
  /** Reminders in the request's thread at this interval while it waits. */
  approvalReminderInterval: durationMs.optional(),
  /** Endpoint isolation needs two different approvers. */
  twoPersonIsolation: z.boolean().default(false),
  approvers: z.array(approver).min(1, 'at least one approver is required'),
  decision: z
    .strictObject({
      zScoreThreshold: z.number().positive().default(DEFAULT_DECISION_POLICY.zScoreThreshold),
      multiplierThreshold: z.number().positive().default(DEFAULT_DECISION_POLICY.multiplierThreshold),
      minHistoryDays: z.number().int().positive().default(DEFAULT_DECISION_POLICY.minHistoryDays),
      volumeFloorBytes: z.number().int().nonnegative().default(DEFAULT_DECISION_POLICY.volumeFloorBytes),
      escalateDepartingEmployees: z.boolean().default(DEFAULT_DECISION_POLICY.escalateDepartingEmployees),
    })
    .default(DEFAULT_DECISION_POLICY),
  businessHours: z
    .strictObject({
      defaultTimezone: timezone.default('UTC'),
      days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
      start: hhmm.default('09:00'),
      end: hhmm.default('18:00'),
      holidays: z.array(z.strictObject({ date: z.iso.date(), name: z.string().min(1) })).default([]),
    })
    .prefault({}),
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
    .prefault({}),
});
