// The worker's workflowsPath: every workflow this worker runs.
export { exfilToCloudStorage } from './exfil-to-cloud-storage';
