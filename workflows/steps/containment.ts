/**
 * Step 4: containment. The approved actions run in parallel, one durable step per provider; one failing permanently
 * does not stop the others, and every result says exactly what happened. Guard rails first: a protected account or
 * device is refused (nothing is called) and the case is escalated to Tier 2 instead.
 */
import { ActivityFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
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
import { accessActivities, failureReason, isolationActivities, notificationActivities } from './activities';
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
        return attempt('revoke-cloud-storage-access', alert.user, provider, () =>
          accessActivities.revokeCloudStorageAccess.executeWithOptions(
            { summary: `Revoke cloud-storage access of ${alert.user} at ${provider}` },
            [request],
          ),
        );
      });
    },
    'isolate-endpoint': () => {
      const hit = matchesProtected(alert.host, policy.protectedDevices);
      if (hit) return [Promise.resolve(refuse('isolate-endpoint', alert.host, `${alert.host} is a protected device (${hit})`))];
      const provider = policy.isolationProvider;
      const request: ContainmentRequest = { ...base, provider, maxDevices: policy.maxDevicesPerRun };
      return [
        attempt('isolate-endpoint', alert.host, provider, () =>
          isolation.isolateEndpoint.executeWithOptions({ summary: `Isolate endpoint ${alert.host} via ${provider}` }, [request]),
        ),
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
