/** The two ways load is offered: an HTTP POST to the product's webhook, and a bare `client.workflow.start`. */
import type { Client } from '@temporalio/client';
import { workflowIdFor } from '../../src/contracts/workflow-ids';
import type { benchBarePlaybook, BareInput } from './bare-workflow';

export const BARE_WORKFLOW_TYPE = 'benchBarePlaybook';

/** What the webhook answers for one alert (src/http/routes/siem.ts: 202 opened or joined, 200 duplicate). */
export interface AckBody {
  workflowId?: string;
  duplicate?: boolean;
  joined?: boolean;
  /** 202 "recorded, case pending" (the shipped answer): the case is read later at `statusUrl`. */
  pending?: boolean;
  statusUrl?: string;
}

/**
 * The case an answer names; for a "case pending" answer to an alert that opens a case of its own (every alert of
 * the ack, throughput and approval-wait scenarios), the ID that case gets: it is named after its opening alert.
 */
export function caseNamed(body: AckBody | null | undefined, alertId: string): string | undefined {
  if (body?.workflowId) return body.workflowId;
  return body?.pending ? workflowIdFor({ source: 'generic', alertId }) : undefined;
}

export interface Answer {
  /** HTTP status, or 0 when no answer came (network error, timeout). */
  status: number;
  /** From just before the request to the whole answer read (performance.now()). */
  ms: number;
  body: AckBody | null;
  retryAfter: string | null;
  error?: string;
}

export async function postAlert(url: string, body: unknown, timeoutMs: number): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: AckBody | null = null;
    try {
      parsed = JSON.parse(text) as AckBody;
    } catch {
      parsed = null;
    }
    return { status: res.status, ms: performance.now() - t0, body: parsed, retryAfter: res.headers.get('retry-after') };
  } catch (err) {
    return { status: 0, ms: performance.now() - t0, body: null, retryAfter: null, error: (err as Error).name };
  }
}

export interface Delivery {
  attempts: Answer[];
  /** The last answer: the one the SIEM is left with. */
  final: Answer;
}

export interface RetryPolicy {
  maxAttempts: number;
  timeoutMs: number;
  /** Ceiling on one Retry-After wait, seconds. */
  maxRetryAfterS: number;
}

/**
 * One alert delivered the way a retrying SIEM does: a 503 is retried after its Retry-After (seconds; 1 when absent),
 * a network error, timeout or other 5xx after 1 s; a 2xx or 4xx ends it. Bounded by `maxAttempts`.
 */
export async function deliverAlert(url: string, body: unknown, policy: RetryPolicy): Promise<Delivery> {
  const attempts: Answer[] = [];
  for (;;) {
    const answer = await postAlert(url, body, policy.timeoutMs);
    attempts.push(answer);
    const retryable = answer.status === 0 || answer.status >= 500;
    if (!retryable || attempts.length >= policy.maxAttempts) return { attempts, final: answer };
    const after = answer.status === 503 ? Number(answer.retryAfter ?? '1') : 1;
    const waitS = Math.min(policy.maxRetryAfterS, Number.isFinite(after) && after >= 0 ? after : 1);
    await new Promise((r) => setTimeout(r, waitS * 1000));
  }
}

/**
 * For every "case pending" answer: the case its alert went to, read at its `statusUrl` once the index has routed it
 * (GET /alerts/...; read again after 250 ms, or after a 503's Retry-After). Returns the answers with `workflowId` and
 * `joined` filled in, and `duplicate` set on every 2xx after the first of the same alert (a resend: the SIEM is told
 * the same case, and it never became a run).
 * Bounded by `timeoutMs` overall; an alert still unrouted then keeps its pending answer (counted as not naming a case).
 */
export async function resolvePending(baseUrl: string, answersByAlert: Map<string, Answer[]>, lanes: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const alerts = [...answersByAlert.entries()].filter(([, answers]) => answers.some((a) => a.body?.pending && a.body.statusUrl));
  let unresolved = 0;
  await closedLoop(alerts.length, lanes, async (i) => {
    const [, answers] = alerts[i] as [string, Answer[]];
    const url = answers.find((a) => a.body?.statusUrl)?.body?.statusUrl ?? '';
    for (;;) {
      const res = await fetch(`${baseUrl}${url}`).catch(() => null);
      if (res?.status === 200) {
        const routed = (await res.json()) as { workflowId: string; joined: boolean };
        let first = true;
        for (const a of answers) {
          if (!a.body?.pending) continue;
          a.body = { ...a.body, workflowId: routed.workflowId, joined: routed.joined, duplicate: !first };
          first = false;
        }
        return;
      }
      if (Date.now() > deadline) {
        unresolved++;
        return;
      }
      // 404: not routed yet; 503: this server runs as many index queries as it allows (ingest.maxStatusQueries), and
      // says when to come back.
      const retryAfterS = res?.status === 503 ? Number(res.headers.get('retry-after')) || 1 : 0;
      await new Promise((r) => setTimeout(r, Math.max(250, Math.min(retryAfterS, 5) * 1000)));
    }
  });
  return unresolved;
}

export interface BareStart {
  ok: boolean;
  ms: number;
  error?: string;
}

/** The bare baseline's acknowledgement: `client.workflow.start` returning. */
export async function startBare(
  client: Client,
  taskQueue: string,
  workflowId: string,
  input: BareInput,
  timeoutMs: number,
): Promise<BareStart> {
  const t0 = performance.now();
  try {
    await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.start<typeof benchBarePlaybook>(BARE_WORKFLOW_TYPE, { taskQueue, workflowId, args: [input] }),
    );
    return { ok: true, ms: performance.now() - t0 };
  } catch (err) {
    return { ok: false, ms: performance.now() - t0, error: (err as Error).message };
  }
}

/** Runs `fn(i)` for i in [0, count) with at most `lanes` in flight (closed loop: a lane sends its next when done). */
export async function closedLoop(count: number, lanes: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, count) }, async () => {
      for (let i = next++; i < count; i = next++) await fn(i);
    }),
  );
}

/**
 * Open loop: `fn(i)` fires at t0 + i / rate whether or not earlier calls have answered; resolves when all answered.
 * Returns the largest lateness of a send against its schedule (the generator's own lag), ms.
 */
export async function openLoop(count: number, ratePerS: number, fn: (i: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  let maxLag = 0;
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / ratePerS;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    maxLag = Math.max(maxLag, performance.now() - due);
    pending.push(fn(i));
  }
  await Promise.all(pending);
  return maxLag;
}
