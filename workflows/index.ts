// The worker's workflowsPath: every workflow this worker runs.
export { alertCaseIndex } from './case-index';
export { exfilToCloudStorage } from './exfil-to-cloud-storage';
export { webhookReceipt } from './webhook-receipt';
