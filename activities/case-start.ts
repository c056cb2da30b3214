/**
 * The case index's activities, run as local activities inside its workflow tasks with the worker's own client: start
 * the case an alert opens, and ask whether a case still runs. A case started this way is not the index's child, so
 * the index's history takes no child-start and child-close events and no workflow tasks for them: one workflow task
 * per alert that opens a case.
 */
import { Context, log } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { CaseStartOptions, PlaybookInput, RouteAlertRequest } from '../src/contracts/playbook';
import { PLAYBOOK_WORKFLOW_TYPE } from '../src/contracts/workflow-ids';

export interface StartCaseRequest extends RouteAlertRequest {
  /** The case's workflow ID, summary, memo and search attributes, as the workflow derived them from the alert. */
  start: CaseStartOptions;
  /** The task queue the case runs on. */
  taskQueue: string;
}

/** `started: false`: a workflow with the case's ID exists already (the alert opened it before), nothing was started. */
export interface StartCaseResult {
  workflowId: string;
  started: boolean;
}

export interface CaseIndexActivityOptions {
  /**
   * Admission of a case start, asked before the start (the burst pacing, src/temporal/burst-pacer.ts): resolves when
   * the case may start; rejects only when the signal aborts (the activity is cancelled).
   */
  admit?: (signal: AbortSignal) => Promise<void>;
}

export function createCaseIndexActivities({ admit }: CaseIndexActivityOptions = {}) {
  return {
    /**
     * Starts the case the alert opens, named after the alert (the ID is the record: a second start is refused, so a
     * retry after an uncertain attempt starts nothing twice).
     */
    async startCase({ alert, policy, start: options, taskQueue }: StartCaseRequest): Promise<StartCaseResult> {
      await admit?.(Context.current().cancellationSignal);
      try {
        await Context.current().client.workflow.start(PLAYBOOK_WORKFLOW_TYPE, {
          ...options,
          taskQueue,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [{ alert, policy } satisfies PlaybookInput],
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
