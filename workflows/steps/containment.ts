/** Step 4: containment. Both actions run; one failing permanently does not stop the other. */
import { ActivityFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ContainmentActionName, ContainmentActionResult, ContainmentRequest, PlaybookInput } from '../../src/contracts/playbook';
import { SA } from '../../src/contracts/search-attributes';
import { containmentActivities as act, failureReason } from './activities';

async function attempt(
  action: ContainmentActionResult['action'],
  target: string,
  run: () => Promise<ContainmentActionResult>,
): Promise<ContainmentActionResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ActivityFailure) {
      return { action, target, provider: 'unknown', status: 'failed', detail: failureReason(err), at: new Date().toISOString() };
    }
    throw err;
  }
}

export function containmentState(results: ContainmentActionResult[]): string {
  if (results.every((r) => r.status === 'simulated')) return 'simulated';
  if (results.every((r) => r.status === 'done' || r.status === 'simulated')) return 'contained';
  if (results.some((r) => r.status === 'done' || r.status === 'simulated')) return 'partial';
  return 'failed';
}

/** Runs the approved actions only; an action the approver left out is not run and not reported as done. */
export async function contain(input: PlaybookInput, approved: readonly ContainmentActionName[]): Promise<ContainmentActionResult[]> {
  const { alert } = input;
  const request: ContainmentRequest = {
    workflowId: workflowInfo().workflowId,
    alertId: alert.alertId,
    user: alert.user,
    host: alert.host,
    destDomain: alert.destDomain,
  };
  const actions: Record<ContainmentActionName, () => Promise<ContainmentActionResult>> = {
    'revoke-cloud-storage-access': () =>
      attempt('revoke-cloud-storage-access', alert.user, () =>
        act.revokeCloudStorageAccess.executeWithOptions({ summary: `Revoke cloud-storage access of ${alert.user}` }, [request]),
      ),
    'isolate-endpoint': () =>
      attempt('isolate-endpoint', alert.host, () =>
        act.isolateEndpoint.executeWithOptions({ summary: `Isolate endpoint ${alert.host}` }, [request]),
      ),
  };
  const results = await Promise.all(approved.map((name) => actions[name]()));
  upsertSearchAttributes([{ key: SA.containmentState, value: containmentState(results) }]);
  return results;
}
