/**
 * Step 4: containment. The approved actions run in parallel, one durable step per provider; one failing permanently
 * does not stop the others, and every result says exactly what happened. Guard rails first: a protected account or
 * device is refused (nothing is called) and the case is escalated to Tier 2 instead; a failed action is escalated to
 * Tier 2 as well (patch `tier2-on-containment-failure`).
 */
import { ActivityFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { patchedInSet } from '../patches';
import type {
  ContainmentActionName,
  ContainmentActionResult,
  ContainmentPolicy,
  ContainmentRequest,
  GuardRailEscalation,
  PlaybookInput,
  RunState,
} from '../../src/contracts/playbook';
import { SA } from '../../src/contracts/search-attributes';
import { matchesProtected, matchesProtectedAccount } from '../guard-rails';
import {
  accessActivities,
  accessActivitiesFor,
  failureReason,
  isolationActivities,
  notificationActivities,
  PRE_STATE_PATCH,
  TIER2_ON_FAILURE_PATCH,
} from './activities';
import { audit } from './audit';

export async function attempt(
  action: ContainmentActionResult['action'],
  target: string,
  provider: string,
  run: () => Promise<ContainmentActionResult>,
): Promise<ContainmentActionResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ActivityFailure) {
      return { action, target, provider, status: 'failed', detail: failureReason(err), at: new Date().toISOString() };
    }
    throw err;
  }
}

/**
 * The run's containment policy. Runs started before containment settings existed carry none: they continue as
 * before (dry run, no guard rails, no hold), so their histories still replay.
 */
export const LEGACY_CONTAINMENT_POLICY: ContainmentPolicy = {
  isolationProvider: 'dry-run',
  accessProviders: ['dry-run'],
  protectedAccounts: [],
  protectedDevices: [],
  maxDevicesPerRun: 1,
  releaseWindowMs: 0,
  leaseMs: 0,
  heartbeatTimeoutMs: 30_000,
  verifyTimeoutMs: 10 * 60_000,
};

export function containmentPolicyOf(input: PlaybookInput): ContainmentPolicy {
  return (input.policy as Partial<PlaybookInput['policy']>).containment ?? LEGACY_CONTAINMENT_POLICY;
}

export function containmentState(results: ContainmentActionResult[]): string {
  if (results.length > 0 && results.every((r) => r.status === 'refused')) return 'refused';
  if (results.every((r) => r.status === 'simulated')) return 'simulated';
  if (results.every((r) => r.status === 'done' || r.status === 'simulated')) return 'contained';
  if (results.some((r) => r.status === 'done' || r.status === 'simulated')) return 'partial';
  return 'failed';
}

/**
 * Runs the approved actions only; an action the approver left out is not run and not reported as done. Each result
 * goes to the audit trail with the approver who authorised it.
 */
export async function contain(input: PlaybookInput, state: RunState, approved: readonly ContainmentActionName[]): Promise<void> {
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
  const refusals: GuardRailEscalation[] = [];
  const refuse = (action: ContainmentActionName, target: string, reason: string): ContainmentActionResult => {
    const at = new Date().toISOString();
    refusals.push({ action, target, reason, at });
    return { action, target, provider: 'guard-rail', status: 'refused', detail: `${reason}: not contained; escalated to Tier 2.`, at };
  };

  const actions: Record<ContainmentActionName, () => Promise<ContainmentActionResult>[]> = {
    'revoke-cloud-storage-access': () => {
      const hit = matchesProtectedAccount(alert.user, alert.userAsSent, policy.protectedAccounts, input.policy.identity);
      if (hit) return [Promise.resolve(refuse('revoke-cloud-storage-access', alert.user, `${alert.user} is a protected account (${hit})`))];
      return policy.accessProviders.map((provider) => {
        const request: ContainmentRequest = { ...base, provider, maxDevices: policy.maxDevicesPerRun };
        const summary = `Revoke cloud-storage access of ${alert.user} at ${provider}`;
        return attempt('revoke-cloud-storage-access', alert.user, provider, async () => {
          if (!patchedInSet(PRE_STATE_PATCH)) return accessActivities.revokeCloudStorageAccess.executeWithOptions({ summary }, [request]);
          // Recorded before the change: whose change a retry finds is decided by this, not by a heartbeat.
          const { before } = await access.observeCloudStorageAccess.executeWithOptions(
            { summary: `Record what ${provider} holds for ${alert.user} before revoking` },
            [{ ...request, direction: 'revoke' }],
          );
          return access.revokeCloudStorageAccess.executeWithOptions({ summary }, [{ ...request, ...(before ? { before } : {}) }]);
        });
      });
    },
    'isolate-endpoint': () => {
      const hit = matchesProtected(alert.host, policy.protectedDevices);
      if (hit) return [Promise.resolve(refuse('isolate-endpoint', alert.host, `${alert.host} is a protected device (${hit})`))];
      const provider = policy.isolationProvider;
      const request: ContainmentRequest = { ...base, provider, maxDevices: policy.maxDevicesPerRun };
      const summary = `Isolate endpoint ${alert.host} via ${provider}`;
      return [
        attempt('isolate-endpoint', alert.host, provider, async () => {
          if (!patchedInSet(PRE_STATE_PATCH)) return isolation.isolateEndpoint.executeWithOptions({ summary }, [request]);
          // The devices and their state, recorded before anything is asked (see PRE_STATE_PATCH).
          const prepared = await isolation.prepareEndpointIsolation.executeWithOptions(
            { summary: `Record the state of ${alert.host} at ${provider} before isolating` },
            [{ ...request, direction: 'isolate' }],
          );
          if (prepared.result) return prepared.result;
          return isolation.isolateEndpoint.executeWithOptions({ summary }, [
            { ...request, ...(prepared.plan ? { plan: prepared.plan } : {}) },
          ]);
        }),
      ];
    },
  };
  const results = await Promise.all(approved.flatMap((name) => actions[name]()));
  // A guard rail inside a provider (more devices than allowed under one host name) also refuses and escalates.
  for (const r of results) {
    if (r.status === 'refused' && r.provider !== 'guard-rail') {
      refusals.push({ action: r.action as ContainmentActionName, target: r.target, reason: r.detail, at: r.at });
    }
  }
  state.containment = results;
  state.escalations.push(...refusals);
  upsertSearchAttributes([{ key: SA.containmentState, value: containmentState(results) }]);

  if (refusals.length > 0) {
    await notificationActivities.escalateToTier2.executeWithOptions({ summary: 'Escalate refused containment to Tier 2' }, [
      {
        workflowId: base.workflowId,
        reason: `containment refused by a guard rail: ${refusals.map((r) => r.reason).join('; ')}`,
        alert,
        containment: results,
      },
    ]);
  }
  const failures = results.filter((r) => r.status === 'failed');
  if (failures.length > 0 && patchedInSet(TIER2_ON_FAILURE_PATCH)) {
    await notificationActivities.escalateToTier2.executeWithOptions({ summary: 'Escalate failed containment to Tier 2' }, [
      {
        workflowId: base.workflowId,
        reason: `containment failed: ${failures.map((f) => `${f.action} ${f.target} via ${f.provider}: ${f.detail}`).join('; ')}`,
        alert,
        containment: results,
      },
    ]);
  }
  for (const result of results) {
    await audit(
      'containment',
      'playbook',
      { ...result, approvedBy: state.approval.decidedBy },
      `${result.action} on ${result.target}: ${result.status}`,
      `containment/${result.action}`,
    );
  }
}
