/**
 * The input a run starts with, and reading and deciding runs through the Temporal client: shared by the HTTP server
 * and the CLI. Runs start in one place only: a case index opens them (src/temporal/ingest.ts, workflows/case-index.ts)
 * with `caseStartOptions` (workflows/case-summary.ts).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { confirmContainmentUpdate, decideApprovalUpdate, getStateQuery, releaseContainmentUpdate } from '../../workflows/messages';
import type { Config } from '../config';
import type { NormalizedAlert } from '../contracts/alert';
import type {
  ApprovalDecisionInput,
  ApprovalState,
  ContainmentPolicy,
  ContainmentReviewInput,
  LeaseState,
  LookupPlacement,
  PlaybookInput,
  ReleaseState,
  RunState,
} from '../contracts/playbook';
import { PLAYBOOK_WORKFLOW_TYPE, workflowIdFor } from '../contracts/workflow-ids';

export { workflowIdFor };

export function playbookInput(config: Config, alert: NormalizedAlert): PlaybookInput {
  return {
    alert,
    policy: {
      decision: config.playbook.decision,
      approval: {
        timeoutMs: config.playbook.approvalTimeout,
        deadlineMs: config.playbook.approvalDeadline ?? config.playbook.approvalTimeout,
        reminderIntervalMs: config.playbook.approvalReminderInterval ?? null,
        twoPersonIsolation: config.playbook.twoPersonIsolation,
        approvers: config.playbook.approvers,
      },
      containment: containmentPolicy(config),
      identity: { domains: config.identity.domains, netbiosNames: config.identity.netbiosNames },
      lookups: lookupPlacement(config),
    },
  };
}

/**
 * Where each lookup of a run runs: a source the worker reads itself (`file`: loaded at start-up, kept by modification
 * time) as a local activity, in the workflow task, with no round trip through the server's task queue; a vendor's API
 * as an ordinary activity, so a slow or failing vendor shows in the UI as a pending activity with its attempts, is
 * retried by the server, and holds no workflow task open.
 */
export function lookupPlacement(config: Config): LookupPlacement {
  const placement = (source: string) => (source === 'file' ? 'local' : 'activity');
  const { hr, changes, devices, baselines } = config.enrichment;
  return {
    hr: placement(hr.source),
    changes: placement(changes.source),
    devices: placement(devices.source),
    baselines: placement(baselines.source),
  };
}

/** The containment settings a run snapshots at start (providers, guard rails, release window, lease, timing). */
export function containmentPolicy(config: Config): ContainmentPolicy {
  const c = config.playbook.containment;
  const { isolation, access } = config.containment;
  return {
    isolationProvider: isolation.provider,
    accessProviders: [...access.providers],
    protectedAccounts: c.protectedAccounts,
    protectedDevices: c.protectedDevices,
    maxDevicesPerRun: c.maxDevicesPerRun,
    releaseWindowMs: c.releaseWindow,
    leaseMs: c.lease,
    heartbeatTimeoutMs: isolation.heartbeatTimeout,
    verifyTimeoutMs: isolation.verifyTimeout,
  };
}

/** A run whose workflow ended abnormally (failed, terminated, cancelled, timed out). */
export interface AbnormalRunView {
  workflowId: string;
  playbook: 'T1567.002';
  status: 'failed' | 'terminated' | 'canceled' | 'timed-out';
  temporalStatus: string;
}

export type RunView = RunState | AbnormalRunView;

/** The run's current state, or null when there is no such playbook run. */
export async function getRunView(client: Client, workflowId: string): Promise<RunView | null> {
  const handle = client.workflow.getHandle(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
  if (description.type !== PLAYBOOK_WORKFLOW_TYPE) return null;
  switch (description.status.name) {
    case 'RUNNING':
      return handle.query(getStateQuery);
    case 'COMPLETED':
      return (await handle.result()) as RunState;
    case 'CONTINUED_AS_NEW':
    case 'FAILED':
      return { workflowId, playbook: 'T1567.002', status: 'failed', temporalStatus: description.status.name };
    case 'TERMINATED':
      return { workflowId, playbook: 'T1567.002', status: 'terminated', temporalStatus: description.status.name };
    case 'CANCELLED':
      return { workflowId, playbook: 'T1567.002', status: 'canceled', temporalStatus: description.status.name };
    default:
      return { workflowId, playbook: 'T1567.002', status: 'timed-out', temporalStatus: description.status.name };
  }
}

/**
 * Sends a human decision to a waiting run. The current request ID is read from the run first, so a decision always
 * targets the request the approver was shown; the workflow's validator then checks who may decide.
 */
export async function decideApproval(
  client: Client,
  workflowId: string,
  decision: Omit<ApprovalDecisionInput, 'requestId'> & { requestId?: string },
): Promise<ApprovalState> {
  const handle = client.workflow.getHandle(workflowId);
  const requestId = decision.requestId ?? (await handle.query(getStateQuery)).approval.requestId;
  if (!requestId) throw new Error(`Run ${workflowId} has no approval request.`);
  return handle.executeUpdate(decideApprovalUpdate, { args: [{ ...decision, requestId }] });
}

/**
 * Releases a held containment: the workflow's validator applies the approver rules; the promise resolves when the
 * release steps have run, with what was and was not undone.
 */
export function releaseContainment(client: Client, workflowId: string, review: ContainmentReviewInput): Promise<ReleaseState> {
  return client.workflow.getHandle(workflowId).executeUpdate(releaseContainmentUpdate, { args: [review] });
}

/** Confirms a held containment, so its lease does not re-escalate it to Tier 2. */
export function confirmContainment(client: Client, workflowId: string, review: ContainmentReviewInput): Promise<LeaseState> {
  return client.workflow.getHandle(workflowId).executeUpdate(confirmContainmentUpdate, { args: [review] });
}
