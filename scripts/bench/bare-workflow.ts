/**
 * The bare baseline of `npm run bench`: the benign playbook's activity shape with nothing else (five parallel
 * activities, then four sequential ones), so the bench can say how close the product runs to Temporal's own speed on
 * the same server. `waitForSignal` gives the escalated shape instead (five parallel, three sequential, then a durable
 * wait), whose only extra is one search-attribute upsert so the bench can count the waiting runs in visibility as it
 * counts the product's (`ApprovalState = "pending"`). Deterministic code only; bundled by scripts/bench/bare-worker.ts.
 */
import { condition, defineSignal, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { SA } from '../../src/contracts/search-attributes';
import type { BareActivities } from './bare-activities';

export interface BareInput {
  /** The alert the product would get, so both sides carry the same payload. */
  alert: unknown;
  waitForSignal?: boolean;
}

// The product's enrichment retry profile (workflows/steps/activities.ts), so a retry costs both sides alike.
const act = proxyActivities<BareActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

export const releaseBareSignal = defineSignal('releaseBare');

export async function benchBarePlaybook(input: BareInput): Promise<string> {
  await Promise.all([1, 2, 3, 4, 5].map((step) => act.bareStep(`parallel-${step}`, input.alert)));
  if (input.waitForSignal) {
    for (const step of ['business-hours', 'decision', 'notify']) await act.bareStep(step, null);
    let released = false;
    setHandler(releaseBareSignal, () => {
      released = true;
    });
    upsertSearchAttributes([{ key: SA.approvalState, value: 'pending' }]);
    await condition(() => released, '24h');
    return 'released';
  }
  for (const step of ['business-hours', 'decision', 'report', 'closed']) await act.bareStep(step, null);
  return 'closed';
}
