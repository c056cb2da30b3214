/**
 * After containment: the run holds for a release window (`playbook.containment.releaseWindow`) so the containment
 * can be undone as durable steps recorded in this same run, and, with a lease (`playbook.containment.lease`),
 * re-escalates to Tier 2 a containment nobody confirmed in time. Release and confirm are Workflow Updates whose
 * validators apply the identity rules of the approval (workflows/approvers.ts). Only what this run changed is
 * undone: a device that was already isolated, a member someone else suspended, a refused or failed action are left
 * as they are.
 */
import { condition, log, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { patchedInSet } from '../patches';
import type {
  ContainmentActionResult,
  ContainmentRequest,
  ContainmentReviewInput,
  LeaseState,
  PlaybookInput,
  ReleaseState,
  RunState,
} from '../../src/contracts/playbook';
import { SA } from '../../src/contracts/search-attributes';
import { confirmContainmentUpdate, releaseContainmentUpdate } from '../messages';
import { accessActivities, accessActivitiesFor, isolationActivities, notificationActivities, PRE_STATE_PATCH } from './activities';
import { checkDecider, twoApproversRule, unknownRelation } from './approval';
import { audit } from './audit';
import { attempt, containmentPolicyOf } from './containment';

export const NO_RELEASE: ReleaseState = {
  status: 'not-requested',
  requestedBy: null,
  requestedAt: null,
  via: null,
  comment: null,
  windowEndsAt: null,
  results: [],
};

export const NO_LEASE: LeaseState = {
  status: 'none',
  expiresAt: null,
  confirmedBy: null,
  confirmedAt: null,
  escalatedAt: null,
  escalatedVia: null,
};

/**
 * The identity rules of the approval, for a release or a confirmation; the request's expiry and its two-person record
 * do not apply to a later review. From the CLI only who and through what channel are passed on; a Slack review (the
 * "Release containment" button) must carry its click's context and the approval's digest, checked as for a decision.
 */
export function checkReviewer(
  input: PlaybookInput,
  state: RunState,
  review: ContainmentReviewInput,
  firstBy: string | null = null,
): string {
  let name: string;
  if (review.via === 'slack') {
    // A Slack review is a click on this run's approval message: its context and digest vouch for it, as for a decision.
    if (review.digest !== undefined && review.digest !== state.approval.digest) {
      throw new Error("This button is not on the message of this run's approval (digest mismatch); it authorises nothing.");
    }
    name = checkDecider(input, state, {
      approver: review.approver,
      via: review.via,
      ...(review.digest !== undefined ? { digest: review.digest } : {}),
      ...(review.slack ? { slack: review.slack } : {}),
    });
  } else {
    name = checkDecider(input, state, { approver: review.approver, via: review.via });
  }
  const unknown = unknownRelation(input, state);
  if (firstBy !== null && unknown !== null && name === firstBy) {
    throw new Error(
      `${review.approver} has already asked for this; ${twoApproversRule(unknown)}, so the second must come from someone else.`,
    );
  }
  return name;
}

/** The patch that makes a release or a confirmation need two people when the subject's manager is unknown. */
export const UNKNOWN_MANAGER_REVIEW_PATCH = 'unknown-manager-review-needs-two';

/**
 * Fail closed on identity, as for the approval (approval.ts, `unknownRelation`): with the subject's manager unknown,
 * the first person's release or confirmation is recorded and waits for a second, different one. Returns true when
 * this review is that first one (the caller records it and does nothing else).
 */
function firstOfTwo(input: PlaybookInput, state: RunState, firstBy: string | null | undefined): boolean {
  if (unknownRelation(input, state) === null || !patchedInSet(UNKNOWN_MANAGER_REVIEW_PATCH)) return false;
  return firstBy === null || firstBy === undefined;
}

/** The reviewer's directory name (the validator has accepted them); their handle if it cannot be had. */
function reviewerName(input: PlaybookInput, state: RunState, review: ContainmentReviewInput): string {
  try {
    return checkReviewer(input, state, review);
  } catch {
    return review.approver;
  }
}

/** What this run changed and may undo. */
function undoable(state: RunState): ContainmentActionResult[] {
  return state.containment.filter((r) => (r.status === 'done' && !r.alreadyInState) || r.status === 'simulated');
}

export function registerReleaseHandlers(input: PlaybookInput, state: RunState): void {
  setHandler(
    releaseContainmentUpdate,
    async (review: ContainmentReviewInput) => {
      if (firstOfTwo(input, state, state.release.firstRequestBy)) {
        state.release = { ...state.release, firstRequestBy: reviewerName(input, state, review) };
        return state.release;
      }
      state.release = {
        ...state.release,
        status: 'releasing',
        requestedBy: review.approver,
        requestedAt: new Date().toISOString(),
        via: review.via,
        comment: review.comment ?? null,
      };
      await condition(() => state.release.status !== 'releasing');
      return state.release;
    },
    {
      validator: (review: ContainmentReviewInput) => {
        if (state.stage !== 'contained' || state.release.windowEndsAt === null) {
          throw new Error(`Nothing to release: this run is not holding a containment (stage ${state.stage}).`);
        }
        if (state.release.status !== 'not-requested') throw new Error(`A release was already requested (${state.release.status}).`);
        checkReviewer(input, state, review, state.release.firstRequestBy ?? null);
      },
    },
  );
  setHandler(
    confirmContainmentUpdate,
    (review: ContainmentReviewInput) => {
      if (firstOfTwo(input, state, state.lease.firstConfirmBy)) {
        state.lease = { ...state.lease, firstConfirmBy: reviewerName(input, state, review) };
        return state.lease;
      }
      state.lease = { ...state.lease, status: 'confirmed', confirmedBy: review.approver, confirmedAt: new Date().toISOString() };
      return state.lease;
    },
    {
      validator: (review: ContainmentReviewInput) => {
        if (state.stage !== 'contained')
          throw new Error(`Nothing to confirm: this run is not holding a containment (stage ${state.stage}).`);
        if (state.lease.status === 'confirmed') throw new Error(`Already confirmed by ${state.lease.confirmedBy}.`);
        checkReviewer(input, state, review, state.lease.firstConfirmBy ?? null);
      },
    },
  );
}

/** Undoes what this run changed, in parallel; each step's failure is recorded, not fatal. */
async function release(input: PlaybookInput, state: RunState): Promise<void> {
  const { alert } = input;
  const policy = containmentPolicyOf(input);
  const base = {
    workflowId: workflowInfo().workflowId,
    alertId: alert.alertId,
    user: alert.user,
    host: alert.host,
    destDomain: alert.destDomain,
  };
  const isolation = isolationActivities(policy);
  const access = accessActivitiesFor(policy);
  const steps = state.containment.map((r): Promise<ContainmentActionResult> => {
    const request: ContainmentRequest = {
      ...base,
      provider: r.provider,
      maxDevices: policy.maxDevicesPerRun,
      ...(r.ref ? { ref: r.ref } : {}),
    };
    const undo = r.action === 'isolate-endpoint' ? 'lift-endpoint-isolation' : 'restore-cloud-storage-access';
    if (!undoable(state).includes(r)) {
      const why = r.alreadyInState ? 'was already in place before this run' : `was ${r.status}`;
      return Promise.resolve({
        action: undo,
        target: r.target,
        provider: r.provider,
        status: 'skipped',
        changedBy: 'nobody',
        detail: `Not undone: ${r.action} ${why}; left as it is.`,
        at: new Date().toISOString(),
      });
    }
    if (r.action === 'isolate-endpoint') {
      const summary = `Lift isolation of ${r.target} via ${r.provider}`;
      return attempt(undo, r.target, r.provider, async () => {
        if (!patchedInSet(PRE_STATE_PATCH)) return isolation.liftEndpointIsolation.executeWithOptions({ summary }, [request]);
        // The devices' state before the lift, recorded first: a lift whose answer was lost is still this run's.
        const prepared = await isolation.prepareEndpointIsolation.executeWithOptions(
          { summary: `Record the state of ${r.target} at ${r.provider} before lifting` },
          [{ ...request, direction: 'release' }],
        );
        if (prepared.result) return prepared.result;
        return isolation.liftEndpointIsolation.executeWithOptions({ summary }, [
          { ...request, ...(prepared.plan ? { plan: prepared.plan } : {}) },
        ]);
      });
    }
    const summary = `Restore access of ${r.target} at ${r.provider}`;
    return attempt(undo, r.target, r.provider, async () => {
      if (!patchedInSet(PRE_STATE_PATCH)) return accessActivities.restoreCloudStorageAccess.executeWithOptions({ summary }, [request]);
      const { before } = await access.observeCloudStorageAccess.executeWithOptions(
        { summary: `Record what ${r.provider} holds for ${r.target} before restoring` },
        [{ ...request, direction: 'restore' }],
      );
      return access.restoreCloudStorageAccess.executeWithOptions({ summary }, [{ ...request, ...(before ? { before } : {}) }]);
    });
  });
  const results = await Promise.all(steps);
  const attempted = results.filter((r) => r.status !== 'skipped');
  const ok = attempted.filter((r) => r.status === 'done' || r.status === 'simulated');
  state.release.results = results;
  state.release.status = ok.length === attempted.length ? 'released' : ok.length > 0 ? 'partially-released' : 'release-failed';
  upsertSearchAttributes([{ key: SA.containmentState, value: state.release.status }]);
}

/**
 * Holds the run after containment while a release may be requested. Returns once released (each undo recorded in
 * the audit trail) or when the window closes. Does nothing when the window is 0 or this run changed nothing.
 */
export async function holdForRelease(
  input: PlaybookInput,
  state: RunState,
  hooks: { onHold: () => Promise<void>; onRelease: () => void },
): Promise<void> {
  const policy = containmentPolicyOf(input);
  if (policy.releaseWindowMs <= 0 || undoable(state).length === 0) return;
  const now = Date.now();
  state.release.windowEndsAt = new Date(now + policy.releaseWindowMs).toISOString();
  if (policy.leaseMs > 0) state.lease = { ...NO_LEASE, status: 'unconfirmed', expiresAt: new Date(now + policy.leaseMs).toISOString() };
  await hooks.onHold();

  let closing = false;
  const leaseWatch = (async () => {
    if (policy.leaseMs <= 0) return;
    const answered = await condition(
      () => state.lease.status === 'confirmed' || state.release.status !== 'not-requested' || closing,
      policy.leaseMs,
    );
    if (answered) return;
    state.lease.status = 're-escalated';
    state.lease.escalatedAt = new Date().toISOString();
    log.warn('Containment lease expired unconfirmed: re-escalating to Tier 2');
    const notice = await notificationActivities.escalateToTier2.executeWithOptions(
      { summary: 'Re-escalate unconfirmed containment to Tier 2' },
      [
        {
          workflowId: workflowInfo().workflowId,
          reason: `containment not confirmed within the lease (expired ${state.lease.expiresAt}); confirm it or release it`,
          alert: input.alert,
          containment: state.containment,
        },
      ],
    );
    state.lease.escalatedVia = notice.via;
  })();

  const requested = await condition(() => state.release.status === 'releasing', policy.releaseWindowMs);
  closing = true;
  if (requested) {
    hooks.onRelease();
    await release(input, state);
  } else {
    state.release.status = 'window-closed';
  }
  await leaseWatch;
  // Recorded once the hold is over (after the lease watch), each undo with who asked for the release.
  for (const result of state.release.results) {
    await audit(
      'release',
      state.release.requestedBy ?? 'playbook',
      { ...result, releaseStatus: state.release.status, comment: state.release.comment },
      `release ${result.action} on ${result.target}: ${result.status}`,
      `release/${result.action}`,
    );
  }
}
