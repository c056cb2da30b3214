/** An ActionContext for connector tests: records heartbeats, sleeps briefly, resumes from given details. */
import type { ActionContext } from '../../src/contracts/ports';

export interface TestActionContext extends ActionContext {
  beats: unknown[];
  /** The last heartbeat, as a retry would receive it. */
  last(): unknown;
}

export function actionContext(resume?: unknown): TestActionContext {
  const beats: unknown[] = [];
  return {
    resume,
    beats,
    heartbeat: (details) => beats.push(structuredClone(details)),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
    now: () => Date.now(),
    last: () => beats[beats.length - 1],
  };
}

export const FAST = { pollIntervalMs: 5, verifyTimeoutMs: 3000 };
