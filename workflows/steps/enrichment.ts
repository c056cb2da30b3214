/** Step 1: enrichment. Everything but business hours runs in parallel; business hours needs the HR time zone. */
import { ActivityFailure, log } from '@temporalio/workflow';
import type { NormalizedAlert } from '../../src/contracts/alert';
import type { Enrichment, Finding } from '../../src/contracts/playbook';
import { enrichmentActivities as act, failureReason } from './activities';

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

/**
 * `dayTotals` (runs since the volume rule counts the day, patch `volume-day-total`): the baseline waits for HR's time
 * zone, like business hours, because the user's day (for the 30 days and for the day so far) is a local day.
 */
export async function enrich(alert: NormalizedAlert, options: { dayTotals?: boolean } = {}): Promise<Enrichment> {
  if (options.dayTotals) return enrichWithDay(alert);
  const [domain, hr, policyChanges, device, baseline] = await Promise.all([
    toFinding('domain', () =>
      act.checkDestinationDomain.executeWithOptions({ summary: `Is ${alert.destDomain} an approved cloud-storage domain?` }, [
        { destDomain: alert.destDomain, destUrl: alert.destUrl ?? null },
      ]),
    ),
    toFinding('hr', () =>
      act.lookupHrAuthorization.executeWithOptions({ summary: `HR: is ${alert.user} authorized to use cloud storage?` }, [
        { user: alert.user },
      ]),
    ),
    toFinding('policyChanges', () =>
      act.findCloudStoragePolicyChanges.executeWithOptions({ summary: 'Recent cloud-storage policy changes, exceptions and pilots' }, [
        { user: alert.user, eventTime: alert.eventTime },
      ]),
    ),
    toFinding('device', () =>
      act.checkDeviceAuthorization.executeWithOptions({ summary: `Is ${alert.host} authorized to use cloud storage?` }, [
        { host: alert.host },
      ]),
    ),
    toFinding('baseline', () =>
      act.getUploadBaseline.executeWithOptions({ summary: `Normal upload volume of ${alert.user}` }, [
        { user: alert.user, eventTime: alert.eventTime },
      ]),
    ),
  ]);
  const timezone = hr.status === 'ok' ? hr.value.timezone : null;
  const businessHours = await toFinding('businessHours', () =>
    act.evaluateBusinessHours.executeWithOptions(
      { summary: `Business hours at ${alert.eventTime} in ${timezone ?? 'the organisation default time zone'}` },
      [{ eventTime: alert.eventTime, timezone }],
    ),
  );
  return { domain, hr, policyChanges, device, baseline, businessHours };
}

async function enrichWithDay(alert: NormalizedAlert): Promise<Enrichment> {
  const hrFinding = toFinding('hr', () =>
    act.lookupHrAuthorization.executeWithOptions({ summary: `HR: is ${alert.user} authorized to use cloud storage?` }, [
      { user: alert.user },
    ]),
  );
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
    toFinding('domain', () =>
      act.checkDestinationDomain.executeWithOptions({ summary: `Is ${alert.destDomain} an approved cloud-storage domain?` }, [
        { destDomain: alert.destDomain, destUrl: alert.destUrl ?? null },
      ]),
    ),
    hrFinding,
    toFinding('policyChanges', () =>
      act.findCloudStoragePolicyChanges.executeWithOptions({ summary: 'Recent cloud-storage policy changes, exceptions and pilots' }, [
        { user: alert.user, eventTime: alert.eventTime },
      ]),
    ),
    toFinding('device', () =>
      act.checkDeviceAuthorization.executeWithOptions({ summary: `Is ${alert.host} authorized to use cloud storage?` }, [
        { host: alert.host },
      ]),
    ),
  ]);
  const timezone = hr.status === 'ok' ? hr.value.timezone : null;
  const [baseline, businessHours] = await Promise.all([
    baselineFinding,
    toFinding('businessHours', () =>
      act.evaluateBusinessHours.executeWithOptions(
        { summary: `Business hours at ${alert.eventTime} in ${timezone ?? 'the organisation default time zone'}` },
        [{ eventTime: alert.eventTime, timezone }],
      ),
    ),
  ]);
  return { domain, hr, policyChanges, device, baseline, businessHours };
}
