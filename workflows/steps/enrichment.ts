/**
 * Step 1: enrichment. Everything but business hours runs in parallel; business hours needs the HR time zone.
 *
 * The two steps that only compute over what the worker has loaded (the domain check against the cloud-storage
 * catalogue, business hours against the policy) run as local activities in runs that start with patch
 * `cheaper-runs` (`local`): the same activity code, its result recorded in one marker, without a round trip through
 * the server's task queue (business hours is the last step before the decision, so that round trip is on every
 * run's critical path). Older runs keep scheduling them as ordinary activities.
 *
 * The four vendor-backed lookups (HR, changes, devices, baselines) run where the run's policy places them
 * (`policy.lookups`, in runs of patch set `playbook-2026-12c`): a source the worker reads itself (`file`) as a local
 * activity, a vendor's API as an ordinary activity. Older runs, and runs without a placement, schedule all four as
 * ordinary activities.
 */
import { ActivityFailure, ApplicationFailure, log, TimeoutFailure } from '@temporalio/workflow';
import type { NormalizedAlert } from '../../src/contracts/alert';
import type { Enrichment, Finding, LookupPlacement, LookupSource } from '../../src/contracts/playbook';
import { enrichmentActivities as act, failureReason, localEnrichmentActivities as local } from './activities';

async function toFinding<T>(step: string, run: () => Promise<{ source: string; value: T }>): Promise<Finding<T>> {
  try {
    const { source, value } = await run();
    return { status: 'ok', source, value };
  } catch (err) {
    // An ordinary activity fails as an ActivityFailure around its cause; a local activity (SDK 1.24) as the cause
    // itself: an ApplicationFailure, or a TimeoutFailure. Either is the step's failure, recorded as unknown. (Before
    // this, a local step's failure failed the run.) A cancellation is not a step's failure and goes on up.
    if (err instanceof ActivityFailure || err instanceof ApplicationFailure || err instanceof TimeoutFailure) {
      const reason = failureReason(err);
      log.warn('Enrichment step failed; recorded as unknown', { step, reason });
      return { status: 'unknown', source: step, reason };
    }
    throw err;
  }
}

type Fast = typeof act | typeof local;

/** The proxies of each lookup: a local activity where the run's placement says so, else an ordinary activity. */
type Lookups = Record<LookupSource, Fast>;

function lookupsFor(placement: LookupPlacement | undefined): Lookups {
  const at = (source: LookupSource): Fast => (placement?.[source] === 'local' ? local : act);
  return { hr: at('hr'), changes: at('changes'), devices: at('devices'), baselines: at('baselines') };
}

/** Each step as both enrichment paths schedule it (calling one schedules its activity at once). */
const steps = {
  domain: (alert: NormalizedAlert, fast: Fast) =>
    toFinding('domain', () =>
      fast.checkDestinationDomain.executeWithOptions({ summary: `Is ${alert.destDomain} an approved cloud-storage domain?` }, [
        { destDomain: alert.destDomain, destUrl: alert.destUrl ?? null },
      ]),
    ),
  hr: (alert: NormalizedAlert, at: Lookups) =>
    toFinding('hr', () =>
      at.hr.lookupHrAuthorization.executeWithOptions({ summary: `HR: is ${alert.user} authorized to use cloud storage?` }, [
        { user: alert.user },
      ]),
    ),
  policyChanges: (alert: NormalizedAlert, at: Lookups) =>
    toFinding('policyChanges', () =>
      at.changes.findCloudStoragePolicyChanges.executeWithOptions({ summary: 'Recent cloud-storage policy changes, exceptions and pilots' }, [
        { user: alert.user, eventTime: alert.eventTime },
      ]),
    ),
  device: (alert: NormalizedAlert, at: Lookups) =>
    toFinding('device', () =>
      at.devices.checkDeviceAuthorization.executeWithOptions({ summary: `Is ${alert.host} authorized to use cloud storage?` }, [
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
 * `lookups` (patch set `playbook-2026-12c`): where each vendor-backed lookup runs; without it, as ordinary activities.
 */
export async function enrich(
  alert: NormalizedAlert,
  {
    dayTotals = false,
    local: inWorker = false,
    lookups,
  }: { dayTotals?: boolean; local?: boolean; lookups?: LookupPlacement } = {},
): Promise<Enrichment> {
  const fast = inWorker ? local : act;
  const at = lookupsFor(lookups);
  if (dayTotals) return enrichWithDay(alert, fast, at);
  const [domain, hr, policyChanges, device, baseline] = await Promise.all([
    steps.domain(alert, fast),
    steps.hr(alert, at),
    steps.policyChanges(alert, at),
    steps.device(alert, at),
    toFinding('baseline', () =>
      at.baselines.getUploadBaseline.executeWithOptions({ summary: `Normal upload volume of ${alert.user}` }, [
        { user: alert.user, eventTime: alert.eventTime },
      ]),
    ),
  ]);
  const timezone = hr.status === 'ok' ? hr.value.timezone : null;
  const businessHours = await steps.businessHours(alert, fast, timezone);
  return { domain, hr, policyChanges, device, baseline, businessHours };
}

async function enrichWithDay(alert: NormalizedAlert, fast: Fast, at: Lookups): Promise<Enrichment> {
  const hrFinding = steps.hr(alert, at);
  const baselineFinding = hrFinding.then((hr) => {
    const timezone = hr.status === 'ok' ? hr.value.timezone : null;
    return toFinding('baseline', () =>
      at.baselines.getUploadBaseline.executeWithOptions(
        { summary: `Normal daily upload volume of ${alert.user}, and the day so far (${timezone ?? 'organisation default time zone'})` },
        [{ user: alert.user, eventTime: alert.eventTime, timezone }],
      ),
    );
  });
  const [domain, hr, policyChanges, device] = await Promise.all([
    steps.domain(alert, fast),
    hrFinding,
    steps.policyChanges(alert, at),
    steps.device(alert, at),
  ]);
  const timezone = hr.status === 'ok' ? hr.value.timezone : null;
  const [baseline, businessHours] = await Promise.all([baselineFinding, steps.businessHours(alert, fast, timezone)]);
  return { domain, hr, policyChanges, device, baseline, businessHours };
}
