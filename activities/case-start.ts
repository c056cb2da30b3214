/**
 * The case index's one activity: start a case's workflow with the worker's own client (a local activity, run inside
 * the index's workflow task). A case started this way is not the index's child, so the index's history takes no
 * child-start and child-close events and no workflow tasks for them: one workflow task per alert that opens a case.
 */
import { Context, log } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { RouteAlertRequest } from '../src/contracts/playbook';
import { PLAYBOOK_WORKFLOW_TYPE } from '../src/temporal/playbook-runs';
import { caseStartOptions } from '../workflows/case-summary';
import type { exfilToCloudStorage } from '../workflows/exfil-to-cloud-storage';

export interface StartCaseRequest extends RouteAlertRequest {
  /** The task queue the case runs on. */
  taskQueue: string;
}

/** `started: false`: a workflow with the case's ID exists already (the alert opened it before), nothing was started. */
export interface StartCaseResult {
  workflowId: string;
  started: boolean;
}

export function createCaseIndexActivities() {
  return {
    /**
     * Starts the case the alert opens, named after the alert (the ID is the record: a second start is refused, so a
     * retry after an uncertain attempt starts nothing twice).
     */
    async startCase({ alert, policy, taskQueue }: StartCaseRequest): Promise<StartCaseResult> {
      const options = caseStartOptions(alert);
      try {
        await Context.current().client.workflow.start<typeof exfilToCloudStorage>(PLAYBOOK_WORKFLOW_TYPE, {
          ...options,
          taskQueue,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [{ alert, policy }],
        });
        return { workflowId: options.workflowId, started: true };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          log.info('Case exists already; not started again', { workflowId: options.workflowId });
          return { workflowId: options.workflowId, started: false };
        }
        throw err;
      }
    },

    /** Whether the case still runs: the index stays for it past its quiet window (a case that is gone: false). */
    async caseIsRunning(workflowId: string): Promise<boolean> {
      try {
        const { status } = await Context.current().client.workflow.getHandle(workflowId).describe();
        return status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
  };
}
