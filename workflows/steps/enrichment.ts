/**
 * Step 1: enrichment. Everything but business hours runs in parallel; business hours needs the HR time zone.
 *
 * The two steps that only compute over what the worker has loaded (the domain check against the cloud-storage
 * catalogue, business hours against the policy) run as local activities in runs that start with patch
 * `cheaper-runs` (`local`): the same activity code, its result recorded in one marker, without a round trip through
 * the server's task queue (business hours is the last step before the decision, so that round trip is on every
 * run's critical path). Older runs keep scheduling them as ordinary activities.
 */
import { ActivityFailure, log } from '@temporalio/workflow';
import type { NormalizedAlert } from '../../src/contracts/alert';
import type { Enrichment, Finding } from '../../src/contracts/playbook';
import { enrichmentActivities as act, failureReason, localEnrichmentActivities as local } from './activities';

async function toFinding<T>(step: string, run: () => Promise<{ source: string; value: T }>): Promise<Finding<T>> {
  try {
    const { source, value } = await run();
    return { status: 'ok', source, value };
  } catch (err) {
    if (err instanceof ActivityFailure) {
      const reason = failureReason(err);
      log.warn('Enrichment step failed; recorded as unknown', { step, reason });
      return { status: 'unknown', source: step, reason };
    }
    throw err;
  }
}

type Fast = typeof act | typeof local;

/** Each step as both enrichment paths schedule it (calling one schedules its activity at once). */
const steps = {
  domain: (alert: NormalizedAlert, fast: Fast) =>
    toFinding('domain', () =>
      fast.checkDestinationDomain.executeWithOptions({ summary: `Is ${alert.destDomain} an approved cloud-storage domain?` }, [
        { destDomain: alert.destDomain, destUrl: alert.destUrl ?? null },
      ]),
    ),
  hr: (alert: NormalizedAlert) =>
    toFinding('hr', () =>
      act.lookupHrAuthorization.executeWithOptions({ summary: `HR: is ${alert.user} authorized to use cloud storage?` }, [
        { user: alert.user },
      ]),
    ),
  policyChanges: (alert: NormalizedAlert) =>
    toFinding('policyChanges', () =>
      act.findCloudStoragePolicyChanges.executeWithOptions({ summary: 'Recent cloud-storage policy changes, exceptions and pilots' }, [
        { user: alert.user, eventTime: alert.eventTime },
      ]),
    ),
  device: (alert: NormalizedAlert) =>
    toFinding('device', () =>
      act.checkDeviceAuthorization.executeWithOptions({ summary: `Is ${alert.host} authorized to use cloud storage?` }, [
        { host: alert.host },
      ]),
    ),
  businessHours: (alert: NormalizedAlert, fast: Fast, timezone: string | null) =>
    toFinding('businessHours', () =>
      fast.evaluateBusinessHours.executeWithOptions(
        { summary: `Business hours at ${alert.eventTime} in ${timezone ?? 'the organisation default time zone'}` },
        [{ eventTime: alert.eventTime, timezone }],
      ),
    ),
};

/**
 * `dayTotals` (runs since the volume rule counts the day, patch `volume-day-total`): the baseline waits for HR's time
 * zone, like business hours, because the user's day (for the 30 days and for the day so far) is a local day.
 * `local` (patch `cheaper-runs`): the domain check and business hours run as local activities.
 */
export async function enrich(
  alert: NormalizedAlert,
  { dayTotals = false, local: inWorker = false }: { dayTotals?: boolean; local?: boolean } = {},
): Promise<Enrichment> {
  const fast = inWorker ? local : act;
  if (dayTotals) return enrichWithDay(alert, fast);
  const [domain, hr, policyChanges, device, baseline] = await Promise.all([
    steps.domain(alert, fast),
    steps.hr(alert),
    steps.policyChanges(alert),
    steps.device(alert),
    toFinding('baseline', () =>
      act.getUploadBaseline.executeWithOptions({ summary: `Normal upload volume of ${alert.user}` }, [
        { user: alert.user, eventTime: alert.eventTime },
      ]),
    ),
  ]);
  const timezone = hr.status === 'ok' ? hr.value.timezone : null;
  const businessHours = await steps.businessHours(alert, fast, timezone);
  return { domain, hr, policyChanges, device, baseline, businessHours };
}

async function enrichWithDay(alert: NormalizedAlert, fast: Fast): Promise<Enrichment> {
  const hrFinding = steps.hr(alert);
  const baselineFinding = hrFinding.then((hr) => {
    const timezone = hr.status === 'ok' ? hr.value.timezone : null;
    return toFinding('baseline', () =>
      act.getUploadBaseline.executeWithOptions(
        { summary: `Normal daily upload volume of ${alert.user}, and the day so far (${timezone ?? 'organisation default time zone'})` },
        [{ user: alert.user, eventTime: alert.eventTime, timezone }],
      ),
    );
  });
  const [domain, hr, policyChanges, device] = await Promise.all([
    steps.domain(alert, fast),
    hrFinding,
    steps.policyChanges(alert),
    steps.device(alert),
  ]);
  const timezone = hr.status === 'ok' ? hr.value.timezone : null;
  const [baseline, businessHours] = await Promise.all([baselineFinding, steps.businessHours(alert, fast, timezone)]);
  return { domain, hr, policyChanges, device, baseline, businessHours };
}
