/**
 * The patches of earlier releases, taken as one by every run started from this release on (patch `playbook-2026-12`).
 *
 * Each `patched()` that returns true in a new run costs that run a marker event and an upsert of the
 * TemporalChangeVersion search attribute (a visibility write on the server). A benign run paid three of each at its
 * start and decision, an escalated run up to six. A run started now records one marker and one upsert for the set
 * at its first step, and every patch of the set then holds without a marker of its own.
 *
 * Runs in flight keep what their histories say: on replay, `patched(PATCH_SET)` is false in a run that began before
 * the set (its marker is not in the history), and each patch is asked on its own, as before. Code outside the
 * replayed part of such a run gets true from `patched(id)` just as it did. A patch added later is a plain
 * `patched(id)` (or joins a later set). One change came with the set itself and needs no patch of its own: a benign
 * run's decision record and its report go out in the same workflow task (`inPatchSet()`). The second set
 * (`PATCH_SET_2`) holds the first and one change of its own; the third (`PATCH_SET_3`) holds the second and one of
 * its own.
 */
import { patched } from '@temporalio/workflow';

export const PATCH_SET = 'playbook-2026-12';

/**
 * The next set (patch `playbook-2026-12b`): everything of `playbook-2026-12`, and the close in one activity (a benign
 * decision's record, the report, the close's record: steps/closing.ts). A run started from this release records this one marker
 * instead of the first set's; runs of the first set, and older ones, replay as before (their histories hold no
 * marker of this set, so it is false for them, and they ask for the first set as they did).
 */
export const PATCH_SET_2 = 'playbook-2026-12b';

/**
 * The third set (patch `playbook-2026-12c`): everything of `playbook-2026-12b`, and lookups where the run's policy
 * places them (`policy.lookups`: a file-backed source's lookup as a local activity, steps/enrichment.ts). Runs of the
 * earlier sets replay as before: their histories hold no marker of this set.
 */
export const PATCH_SET_3 = 'playbook-2026-12c';

/** Module state is per workflow run (the SDK gives every run its own module instances). */
let inSet: boolean | undefined;
let inSet2: boolean | undefined;
let inSet3: boolean | undefined;

/**
 * `patched(id)` for a patch of the set. The first call of a run decides whether the run took the set: call it from
 * the run's first workflow task (exfilToCloudStorage does), so the set's marker sits at the same place in every run.
 */
export function patchedInSet(id: (typeof SET_MEMBERS)[number]): boolean {
  return inPatchSet() || patched(id);
}

/**
 * Whether this run took the set (either set), for what came with the set itself: a benign decision's audit record
 * is written while the report is published (steps/decision.ts).
 */
export function inPatchSet(): boolean {
  inSet ??= inPatchSet2() || patched(PATCH_SET);
  return inSet;
}

/** Whether this run took the second set (or the third): its close is one activity (steps/closing.ts). */
export function inPatchSet2(): boolean {
  inSet2 ??= inPatchSet3() || patched(PATCH_SET_2);
  return inSet2;
}

/** Whether this run took the third set: its lookups run where its policy places them (steps/enrichment.ts). */
export function inPatchSet3(): boolean {
  inSet3 ??= patched(PATCH_SET_3);
  return inSet3;
}

/** The patch IDs the set holds (each still asked on its own by runs that began before the set). */
export const SET_MEMBERS = [
  'volume-day-total',
  'cheaper-runs',
  'audit-run-chain',
  'containment-pre-state',
  'tier2-on-containment-failure',
  'unknown-manager-needs-two-approvers',
  'unknown-manager-review-needs-two',
] as const;
