/**
 * The scenarios of `npm run bench`. Each runs in blocks, interleaved bare, project, bare, project..., so machine
 * noise hits both sides alike; each block prints its own figures, and the scenario returns rows for the final table
 * (figures pooled over its blocks, the ratio project/bare, the target and PASS/MISS).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { exfilToCloudStorage } from '../../workflows';
import type { Config } from '../../src/config';
import { SA } from '../../src/contracts/search-attributes';
import { CASE_INDEX_WORKFLOW_TYPE } from '../../src/temporal/ingest';
import { alertBody, prng, type CaseKeyAllocator, type GenericAlertBody } from './data';
import {
  blockQuery,
  countRuns,
  formatCurve,
  listRuns,
  processMemory,
  sampleHistories,
  terminateOpen,
  watchDrain,
  workflowTaskSpans,
  type DrainResult,
  type HistorySample,
} from './observe';
import {
  BARE_WORKFLOW_TYPE,
  caseNamed,
  closedLoop,
  deliverAlert,
  openLoop,
  postAlert,
  resolvePending,
  startBare,
  type Answer,
  type Delivery,
} from './send';
import { blockCost, costSnapshot, formatCost, formatThreads, type BlockCost } from './server-cost';
import type { Stack } from './stack';
import { inFlightProfile, mib, ms, num, ratio, secs, slowByWindow, spread, startedAfterAck, summarize, verdict, type Row } from './stats';
import { AuditWatch } from './audit-watch';
import { judgeStorm, type StormItem, type StormVerdicts } from './storm-verdicts';

/** The product's playbook workflow type, from the code itself, so a rename cannot silently zero the counts. */
export const PLAYBOOK_TYPE = exfilToCloudStorage.name;

export interface BenchOptions {
  blocks: number;
  sampleMs: number;
  drainTimeoutMs: number;
  requestTimeoutMs: number;
  maxAttempts: number;
  maxRetryAfterS: number;
  historySample: number;
  /** Print every block's drain curve (the storm's and ack100's are always printed). */
  curves: boolean;
  /** Throughput: a project run's close awaited by its audit record then one wait (audit), or by polling (poll). */
  waitBy: 'audit' | 'poll';
  /**
   * Storm: when the bench reads the status links of its "case pending" answers. `after` (default): once the runs have
   * settled (none open, every planned case closed), so the bench loads the product only with the storm's alerts while
   * the backlog drains, as a SIEM that never polls would; `during`: from the end of sending, as many readers as
   * senders, through the drain (each read of a joined or not yet routed alert a query of its case index).
   */
  statusReads: 'after' | 'during';
  seed: number;
}

export interface BenchContext {
  stack: Stack;
  keys: CaseKeyAllocator;
  times: { business: string; offHours: string };
  /** Unique per bench run: part of every alert and workflow ID. */
  run: string;
  options: BenchOptions;
  log: (line: string) => void;
}

type Side = 'bare' | 'project';
const BARE: Side = 'bare';
const PROJECT: Side = 'project';
const SIDES: Side[] = [BARE, PROJECT];

const webhook = (ctx: BenchContext) => `${ctx.stack.baseUrl}/webhooks/siem/generic`;
const config = (ctx: BenchContext): Config => ctx.stack.config;
const sideQuery = (ctx: BenchContext, side: Side, since: Date) =>
  side === 'bare'
    ? blockQuery(BARE_WORKFLOW_TYPE, ctx.stack.bareTaskQueue, since)
    : blockQuery(PLAYBOOK_TYPE, config(ctx).temporal.taskQueue, since);
/** The case indexes started since `since` (on the ingest task queue, or the playbook's when they share it). */
const indexIds = async (ctx: BenchContext, since: Date) =>
  (
    await listRuns(
      ctx.stack.bareClient,
      blockQuery(CASE_INDEX_WORKFLOW_TYPE, config(ctx).temporal.ingestTaskQueue ?? config(ctx).temporal.taskQueue, since),
    )
  ).map((r) => r.workflowId);
const retryPolicy = (ctx: BenchContext) => ({
  maxAttempts: ctx.options.maxAttempts,
  timeoutMs: ctx.options.requestTimeoutMs,
  maxRetryAfterS: ctx.options.maxRetryAfterS,
});
const is2xx = (a: Answer) => a.status >= 200 && a.status < 300;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const pick = <T>(blocks: { side: Side; value: T }[], side: Side) => blocks.filter((b) => b.side === side).map((b) => b.value);

/** Workflow-task timeouts seen in a block: in sampled histories, and as warning lines in the side's process log. */
export interface TaskHealth {
  history: HistorySample;
  logLines: number;
}

async function taskHealth(ctx: BenchContext, side: Side, workflowIds: string[], logBefore: number): Promise<TaskHealth> {
  const history = await sampleHistories(ctx.stack.bareClient, workflowIds, ctx.options.historySample);
  const child = side === 'bare' ? ctx.stack.bare : ctx.stack.product;
  return { history, logLines: child.log.workflowTaskWarnings - logBefore };
}

const logCount = (ctx: BenchContext, side: Side) => (side === 'bare' ? ctx.stack.bare : ctx.stack.product).log.workflowTaskWarnings;
const healthText = (h: TaskHealth) =>
  `histories sampled ${h.history.sampled}: ${h.history.workflowTaskTimeouts} workflow-task timeouts, ${h.history.workflowTaskFailures} failures; ` +
  `TMPRL1104/timeout log lines ${h.logLines}`;
const drainText = (d: DrainResult) =>
  `${d.drainedAt === null ? 'NOT drained' : `drained ${secs(d.drainedAt)}`} after the first send (longest stall ${secs(d.longestStallAfterSending)} after sending ended, ${secs(d.longestStall)} from the first close)` +
  (d.waiting ? `; ${d.waiting} escalated run(s) waiting for approval counted as drained` : '');

function healthRows(scenario: string, health: { side: Side; value: TaskHealth }[], drains: { side: Side; value: DrainResult }[]): Row[] {
  const timeouts = (side: Side) => sum(pick(health, side).map((h) => h.history.workflowTaskTimeouts + h.logLines));
  const stall = (side: Side) => Math.max(0, ...pick(drains, side).map((d) => d.longestStallAfterSending));
  const stallFromFirstClose = (side: Side) => Math.max(0, ...pick(drains, side).map((d) => d.longestStall));
  const undrained = (side: Side) => pick(drains, side).filter((d) => d.drainedAt === null).length;
  return [
    {
      scenario,
      figure: 'workflow-task timeouts (sampled histories + log lines)',
      bare: String(timeouts('bare')),
      project: String(timeouts('project')),
      ratio: '',
      target: '0',
      verdict: verdict(timeouts('project') === 0),
    },
    {
      scenario,
      figure: 'longest stall after the burst (sending ended; work left, no run closing)',
      bare: secs(stall('bare')),
      project: secs(stall('project')),
      ratio: '',
      target: '<= 1 s (progress every second)',
      verdict: verdict(stall('project') <= 1 && undrained('project') === 0),
    },
    {
      scenario,
      figure: 'longest stall from the first close (during the burst too)',
      bare: secs(stallFromFirstClose('bare')),
      project: secs(stallFromFirstClose('project')),
      ratio: '',
      target: '',
      verdict: '',
    },
  ];
}

/** A block that did not drain in time leaves its open runs terminated, so they do not weigh on the next block. */
async function clearUndrained(ctx: BenchContext, drain: DrainResult, query: string, label: string): Promise<void> {
  if (drain.drainedAt !== null) return;
  const n = await terminateOpen(ctx.stack.bareClient, query, `bench: ${label} did not drain within the drain timeout`);
  ctx.log(`  ${label}: not drained within ${ctx.options.drainTimeoutMs / 1000} s after sending; terminated its ${n} open runs`);
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Acknowledgement latency at a fixed offered rate (open loop), distinct cases.

/**
 * How the case indexes' workflow tasks overlapped: routing one alert at a time shows as nearly all the span with none
 * or one in progress, and then the routing rate is about one over a task's time plus the poll between tasks.
 */
export function indexTaskText(tasks: [number, number][]): string {
  const profile = inFlightProfile(tasks);
  const each = summarize(tasks.map(([a, b]) => b - a));
  const [none, one, more] = profile.seconds.map((v) => secs(v));
  return (
    `${tasks.length} case-index workflow tasks over ${secs(profile.span)} (each p50 ${ms(each.p50)}, max ${ms(each.max)}; ` +
    `${num(profile.span > 0 ? tasks.length / profile.span : NaN)}/s): in progress none ${none}, one ${one}, two or more ${more} (at most ${profile.max})`
  );
}

interface AckBlock {
  answers: Answer[];
  /** The project's: how long after its 202 each case started (ms), the case index's routing; empty for the bare. */
  startedAfterAck: number[];
  /** The project's: its case indexes' workflow tasks, `[started, completed]` (ms); empty for the bare. */
  indexTasks: [number, number][];
  maxLag: number;
  drain: DrainResult;
  health: TaskHealth;
}

async function ackBlock(ctx: BenchContext, side: Side, rate: number, seconds: number, label: string): Promise<AckBlock> {
  const n = Math.max(1, Math.round(rate * seconds));
  const tag = `${ctx.run}-${label}`;
  const bodies = Array.from({ length: n }, (_, i) =>
    alertBody(
      `bench-${tag}-${i}`,
      side === 'project' ? ctx.keys.take() : { user: 'bare', host: 'bare', destDomain: 'bare' },
      ctx.times.business,
    ),
  );
  const answers = new Array<Answer>(n);
  const opened = new Set<string>();
  const ackedAt = new Map<string, number>();
  let started = 0;
  let sent = false;
  const logBefore = logCount(ctx, side);
  const since = new Date();
  const t0 = performance.now();
  const drainPromise = watchDrain({
    client: ctx.stack.bareClient,
    query: sideQuery(ctx, side, since),
    t0,
    sampleMs: ctx.options.sampleMs,
    sendingDone: () => sent,
    expectedClosed: () => (side === 'bare' ? started : opened.size),
    timeoutMs: ctx.options.drainTimeoutMs,
  });
  const maxLag = await openLoop(n, rate, async (i) => {
    const body = bodies[i] as GenericAlertBody;
    if (side === 'bare') {
      const r = await startBare(
        ctx.stack.bareStarter,
        ctx.stack.bareTaskQueue,
        `bench-bare-${tag}-${i}`,
        { alert: body },
        ctx.options.requestTimeoutMs,
      );
      answers[i] = { status: r.ok ? 201 : 0, ms: r.ms, body: null, retryAfter: null, ...(r.error ? { error: r.error } : {}) };
      if (r.ok) started++;
    } else {
      const answer = await postAlert(webhook(ctx), body, ctx.options.requestTimeoutMs);
      answers[i] = answer;
      if (is2xx(answer)) ackedAt.set(body.alertId, Date.now());
      const named = caseNamed(answer.body, body.alertId);
      if (is2xx(answer) && named && !answer.body?.duplicate && !answer.body?.joined) opened.add(named);
    }
  });
  sent = true;
  const drain = await drainPromise;
  const runs = await listRuns(ctx.stack.bareClient, sideQuery(ctx, side, since));
  const health = await taskHealth(
    ctx,
    side,
    runs.map((r) => r.workflowId),
    logBefore,
  );
  const indexTasks = side === 'project' ? await workflowTaskSpans(ctx.stack.bareClient, await indexIds(ctx, since)) : [];
  await clearUndrained(ctx, drain, sideQuery(ctx, side, since), `${label}`);
  return { answers, startedAfterAck: startedAfterAck(ackedAt, runs), indexTasks, maxLag, drain, health };
}

function ackCounts(answers: Answer[]) {
  const ok = answers.filter(is2xx).length;
  const unavailable = answers.filter((a) => a.status === 503).length;
  const kinds = new Map<string, number>();
  for (const a of answers) {
    if (is2xx(a) || a.status === 503) continue;
    const kind = a.status === 0 ? (a.error ?? 'no answer') : String(a.status);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const otherKinds = kinds.size ? ` (${[...kinds].map(([k, n]) => `${k}: ${n}`).join(', ')})` : '';
  return { ok, unavailable, other: answers.length - ok - unavailable, otherKinds };
}

export async function ackScenario(
  ctx: BenchContext,
  name: string,
  rate: number,
  seconds: number,
  bareIsRatioTarget: boolean,
): Promise<Row[]> {
  ctx.log(`\n## ${name}: ${rate} alerts/s offered for ${seconds} s (open loop), distinct cases, ${ctx.options.blocks} block pair(s)`);
  const blocks: { side: Side; value: AckBlock }[] = [];
  for (let b = 1; b <= ctx.options.blocks; b++) {
    for (const side of SIDES) {
      const block = await ackBlock(ctx, side, rate, seconds, `${name}-${side[0]}${b}`);
      blocks.push({ side, value: block });
      const c = ackCounts(block.answers);
      const acks = summarize(block.answers.filter(is2xx).map((a) => a.ms));
      const unavailable = summarize(block.answers.filter((a) => a.status === 503).map((a) => a.ms));
      ctx.log(
        `${name} ${side.padEnd(7)} #${b}: ${block.answers.length} sent (generator lag max ${ms(block.maxLag)}): 2xx ${c.ok}, 503 ${c.unavailable}, other ${c.other}${c.otherKinds}; ` +
          `ack p50 ${ms(acks.p50)} p99 ${ms(acks.p99)} max ${ms(acks.max)}` +
          (unavailable.n ? `; 503 answered in p50 ${ms(unavailable.p50)} max ${ms(unavailable.max)}` : ''),
      );
      // Where the slowest 1% were sent: a cold start shows as a first window heavier than the rest. With no 2xx at
      // all there is no p99, and every answer counts.
      const slow = slowByWindow(
        block.answers.map((a) => (is2xx(a) ? a.ms : Infinity)),
        rate,
        10,
        Number.isFinite(acks.p99) ? acks.p99 : Infinity,
      );
      ctx.log(`  answers at or over p99 (or not 2xx), by 10 s of sending: ${slow.join(' ')}`);
      if (side === 'project') {
        const routed = summarize(block.startedAfterAck);
        ctx.log(
          `  ${routed.n} cases started after their 202 (the case index's routing): p50 ${ms(routed.p50)} p99 ${ms(routed.p99)} max ${ms(routed.max)}`,
        );
        ctx.log(`  ${indexTaskText(block.indexTasks)}`);
      }
      ctx.log(`  ${drainText(block.drain)}; ${healthText(block.health)}`);
      if (ctx.options.curves || rate >= 100) ctx.log(formatCurve(block.drain.samples));
    }
  }
  const pooled = (side: Side) => pick(blocks, side).flatMap((b) => b.answers);
  const acks = (side: Side) =>
    summarize(
      pooled(side)
        .filter(is2xx)
        .map((a) => a.ms),
    );
  const counts = (side: Side) => ackCounts(pooled(side));
  const [bare, project] = [acks('bare'), acks('project')];
  const [cb, cp] = [counts('bare'), counts('project')];
  const drainAvg = (side: Side) => {
    const d = pick(blocks, side).map((b) => b.drain.drainedAt ?? NaN);
    return sum(d) / d.length;
  };
  const p50Ratio = ratio(project.p50, bare.p50);
  const p99Ratio = ratio(project.p99, bare.p99);
  const routed = summarize(pick(blocks, 'project').flatMap((b) => b.startedAfterAck));
  return [
    {
      scenario: name,
      figure: 'answers 2xx / 503 / other',
      bare: `${cb.ok} / ${cb.unavailable} / ${cb.other}`,
      project: `${cp.ok} / ${cp.unavailable} / ${cp.other}`,
      ratio: '',
      target: '0 other than 2xx',
      verdict: verdict(cp.unavailable + cp.other === 0),
    },
    {
      scenario: name,
      figure: 'ack p50',
      bare: ms(bare.p50),
      project: ms(project.p50),
      ratio: num(p50Ratio, 2),
      target: bareIsRatioTarget ? '<= 1.5x bare' : '',
      verdict: bareIsRatioTarget ? verdict(p50Ratio <= 1.5) : '',
    },
    {
      scenario: name,
      figure: 'ack p99',
      bare: ms(bare.p99),
      project: ms(project.p99),
      ratio: num(p99Ratio, 2),
      target: bareIsRatioTarget ? '<= 2x bare' : '<= 100 ms',
      verdict: bareIsRatioTarget ? verdict(p99Ratio <= 2) : verdict(project.p99 <= 100),
    },
    {
      scenario: name,
      figure: 'ack max',
      bare: ms(bare.max),
      project: ms(project.max),
      ratio: num(ratio(project.max, bare.max), 2),
      target: '',
      verdict: '',
    },
    {
      scenario: name,
      figure: 'case started after its ack: p50 / p99',
      bare: 'at the ack',
      project: `${ms(routed.p50)} / ${ms(routed.p99)}`,
      ratio: '',
      target: '',
      verdict: '',
    },
    {
      scenario: name,
      figure: 'backlog drained after the first send (mean)',
      bare: secs(drainAvg('bare')),
      project: secs(drainAvg('project')),
      ratio: num(ratio(drainAvg('project'), drainAvg('bare')), 2),
      target: '',
      verdict: '',
    },
    ...healthRows(
      name,
      blocks.map((b) => ({ side: b.side, value: b.value.health })),
      blocks.map((b) => ({ side: b.side, value: b.value.drain })),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Benign start-to-close throughput, closed loop.

interface ThroughputBlock {
  latencies: number[];
  failed: number;
  seconds: number;
  history: HistorySample;
  cost: BlockCost;
}

/** Waits for the run to close; a run of a "case pending" answer may not exist yet, so a missing run is waited for. */
async function waitClosed(client: Client, workflowId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.connection.withDeadline(deadline, () => client.workflow.getHandle(workflowId).result());
      return;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function throughputBlock(ctx: BenchContext, side: Side, runs: number, concurrency: number, label: string): Promise<ThroughputBlock> {
  const tag = `${ctx.run}-${label}`;
  const latencies: number[] = [];
  const ids: string[] = [];
  let failed = 0;
  const audit = side === 'project' && ctx.options.waitBy === 'audit' ? new AuditWatch(config(ctx).audit.file) : null;
  const since = new Date();
  const costBefore = await costSnapshot(ctx.stack.cost);
  const started = performance.now();
  await closedLoop(runs, concurrency, async (i) => {
    const t0 = performance.now();
    try {
      if (side === 'bare') {
        const workflowId = `bench-bare-${tag}-${i}`;
        const body = alertBody(`bench-${tag}-${i}`, { user: 'bare', host: 'bare', destDomain: 'bare' }, ctx.times.business);
        const r = await startBare(
          ctx.stack.bareStarter,
          ctx.stack.bareTaskQueue,
          workflowId,
          { alert: body },
          ctx.options.requestTimeoutMs,
        );
        if (!r.ok) throw new Error(r.error);
        await waitClosed(ctx.stack.bareStarter, workflowId, ctx.options.drainTimeoutMs);
        ids.push(workflowId);
      } else {
        const body = alertBody(`bench-${tag}-${i}`, ctx.keys.take(), ctx.times.business);
        const delivery = await deliverAlert(webhook(ctx), body, retryPolicy(ctx));
        const workflowId = caseNamed(delivery.final.body, body.alertId);
        if (!is2xx(delivery.final) || !workflowId) throw new Error(`answered ${delivery.final.status}`);
        // The audit file says when the run closes (no call to the server), then one wait for its result as for
        // a bare run. A run that fails writes no such record: after a minute the wait below polls for it instead.
        if (audit) await audit.closing(workflowId, Date.now() + Math.min(60_000, ctx.options.drainTimeoutMs));
        await waitClosed(ctx.stack.projectClient, workflowId, ctx.options.drainTimeoutMs);
        ids.push(workflowId);
      }
      latencies.push(performance.now() - t0);
    } catch {
      failed++;
    }
  });
  const seconds = (performance.now() - started) / 1000;
  audit?.stop();
  const cost = blockCost(costBefore, await costSnapshot(ctx.stack.cost), latencies.length, side);
  const history = await sampleHistories(ctx.stack.bareClient, ids, Math.min(5, ctx.options.historySample));
  if (failed > 0) {
    const n = await terminateOpen(ctx.stack.bareClient, sideQuery(ctx, side, since), `bench: ${label} run not closed in time`);
    ctx.log(`  ${label}: ${failed} runs failed or did not close; terminated ${n} still open`);
  }
  return { latencies, failed, seconds, history, cost };
}

export async function throughputScenario(ctx: BenchContext, runs: number, concurrency: number): Promise<Row[]> {
  const name = 'throughput';
  ctx.log(`\n## ${name}: ${runs} benign runs per block, ${concurrency} in flight (closed loop: each waits for its run to close)`);
  const blocks: { side: Side; value: ThroughputBlock }[] = [];
  for (let b = 1; b <= ctx.options.blocks; b++) {
    for (const side of SIDES) {
      const block = await throughputBlock(ctx, side, runs, concurrency, `tp-${side[0]}${b}`);
      blocks.push({ side, value: block });
      const s = summarize(block.latencies);
      ctx.log(
        `${name} ${side.padEnd(7)} #${b}: ${block.latencies.length} closed, ${block.failed} failed in ${secs(block.seconds)}: ` +
          `${num(block.latencies.length / block.seconds)} runs/s; end to end p50 ${ms(s.p50)} p99 ${ms(s.p99)}; ` +
          `history ${num(block.history.eventsAvg, 0)} events / ${num(block.history.bytesAvg / 1024)} KiB per run`,
      );
      ctx.log(`  ${formatCost(block.cost, Number(process.env.BENCH_COST_TOP ?? 12))}`);
      ctx.log(`  ${formatThreads(block.cost)}`);
    }
  }
  const rate = (side: Side) => {
    const bs = pick(blocks, side);
    return sum(bs.map((b) => b.latencies.length)) / sum(bs.map((b) => b.seconds));
  };
  const lat = (side: Side) => summarize(pick(blocks, side).flatMap((b) => b.latencies));
  const hist = (side: Side) => pick(blocks, side).map((b) => b.history);
  const avg = (values: number[]) => sum(values) / values.length;
  const r = ratio(rate('project'), rate('bare'));
  const failed = (side: Side) => sum(pick(blocks, side).map((b) => b.failed));
  // Each pair's own ratio (bare #n against project #n): how far one pair's noise moves the pooled ratio above.
  const blockRate = (b: ThroughputBlock) => b.latencies.length / b.seconds;
  const pairRatios = pick(blocks, 'bare').map((bare, i) => {
    const project = pick(blocks, 'project')[i];
    return project ? ratio(blockRate(project), blockRate(bare)) : NaN;
  });
  // CPU per closed run, dev server and the side's own process, averaged over its blocks: on a machine the runs keep
  // busy, throughput follows it.
  const cpu = (side: Side) => avg(pick(blocks, side).map((b) => b.cost.serverCpu + b.cost.sideCpu));
  return [
    {
      scenario: name,
      figure: `benign runs/s at concurrency ${concurrency}`,
      bare: num(rate('bare')),
      project: num(rate('project')),
      ratio: num(r, 2),
      target: '>= 0.8x bare',
      verdict: verdict(r >= 0.8 && failed('project') === 0),
    },
    {
      scenario: name,
      figure: 'runs/s ratio of each block pair: lowest / median / highest',
      bare: '',
      project: '',
      ratio: spread(pairRatios),
      target: '',
      verdict: '',
    },
    {
      scenario: name,
      figure: 'CPU per run: dev server + own process (s)',
      bare: num(cpu('bare'), 3),
      project: num(cpu('project'), 3),
      ratio: num(ratio(cpu('project'), cpu('bare')), 2),
      target: '',
      verdict: '',
    },
    {
      scenario: name,
      figure: 'end to end p50',
      bare: ms(lat('bare').p50),
      project: ms(lat('project').p50),
      ratio: num(ratio(lat('project').p50, lat('bare').p50), 2),
      target: '',
      verdict: '',
    },
    {
      scenario: name,
      figure: 'end to end p99',
      bare: ms(lat('bare').p99),
      project: ms(lat('project').p99),
      ratio: num(ratio(lat('project').p99, lat('bare').p99), 2),
      target: '',
      verdict: '',
    },
    {
      scenario: name,
      figure: 'runs failed or not closed',
      bare: String(failed('bare')),
      project: String(failed('project')),
      ratio: '',
      target: '0',
      verdict: verdict(failed('project') === 0),
    },
    {
      scenario: name,
      figure: 'history per closed run: events / KiB',
      bare: `${num(avg(hist('bare').map((h) => h.eventsAvg)), 0)} / ${num(avg(hist('bare').map((h) => h.bytesAvg)) / 1024)}`,
      project: `${num(avg(hist('project').map((h) => h.eventsAvg)), 0)} / ${num(avg(hist('project').map((h) => h.bytesAvg)) / 1024)}`,
      ratio: '',
      target: '',
      verdict: '',
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// 2. The storm: N alerts from closed-loop senders, new cases, joins and exact duplicates.

/**
 * The storm's alerts, decided before sending: 60% open a new case (a fresh case key), 25% join one (the case key
 * of one of the last 100 new-case alerts, a new alert ID), 15% resend an earlier alert exactly (one of the last 100
 * alerts, same body). "Earlier" is in sending order; with 32 senders the original may still be in flight.
 */
export function stormPlan(ctx: Pick<BenchContext, 'keys' | 'times'>, n: number, tag: string, random: () => number): StormItem[] {
  const items: StormItem[] = [];
  const recentNew: GenericAlertBody[] = [];
  const recent: GenericAlertBody[] = [];
  const remember = (list: GenericAlertBody[], body: GenericAlertBody) => {
    list.push(body);
    if (list.length > 100) list.shift();
  };
  for (let i = 0; i < n; i++) {
    const r = random();
    let item: StormItem;
    if (recentNew.length === 0 || r < 0.6) {
      item = { kind: 'new', body: alertBody(`bench-${tag}-${i}`, ctx.keys.take(), ctx.times.business) };
      remember(recentNew, item.body);
      remember(recent, item.body);
    } else if (r < 0.85) {
      const opener = recentNew[Math.floor(random() * recentNew.length)] as GenericAlertBody;
      item = { kind: 'join', body: { ...opener, alertId: `bench-${tag}-${i}` } };
      remember(recent, item.body);
    } else {
      item = { kind: 'duplicate', body: recent[Math.floor(random() * recent.length)] as GenericAlertBody };
    }
    items.push(item);
  }
  return items;
}

export interface StormProjectBlock {
  items: StormItem[];
  deliveries: Delivery[];
  sendSeconds: number;
  drain: DrainResult;
  health: TaskHealth;
  verdicts: StormVerdicts;
}

interface StormBareBlock {
  runs: number;
  failed: number;
  sendSeconds: number;
  drain: DrainResult;
  health: TaskHealth;
}

/**
 * Where a storm is sent and watched: one or more HTTP processes of one deployment (alert i goes to urls[i mod n],
 * so an exact resend often reaches another process than its original), the client that reads visibility, the
 * playbook's task queue, and the count of workflow-task warnings in the deployment's logs.
 */
export interface StormTarget {
  urls: string[];
  visibility: Client;
  taskQueue: string;
  taskWarnings: () => number;
  /** Progress lines (the bench's log). */
  log?: (line: string) => void;
}

/** Sends a planned storm to a target, waits for its runs to drain and judges it (the project side of a block). */
export async function runStorm(
  target: StormTarget,
  items: StormItem[],
  senders: number,
  options: BenchOptions,
): Promise<StormProjectBlock> {
  const deliveries = new Array<Delivery>(items.length);
  const opened = new Set<string>();
  const plannedNewCases = items.filter((i) => i.kind === 'new').length;
  let sent = false;
  let named = false;
  // Resolved by the first sample after sending with no run open and every case known so far closed.
  let settle = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const logBefore = target.taskWarnings();
  const since = new Date();
  const query = blockQuery(PLAYBOOK_TYPE, target.taskQueue, since);
  const t0 = performance.now();
  const drainPromise = watchDrain({
    client: target.visibility,
    query,
    t0,
    sampleMs: options.sampleMs,
    // The burst is over when the last alert is answered; the cases are known once every answer's status link named
    // its case (a join may have opened one more): the drain dates from when its runs had all closed.
    sendingDone: () => sent,
    expectedKnown: () => named,
    // Each planned new case is a run to close, known before its answer names it (a join may open one more).
    expectedClosed: () => Math.max(opened.size, plannedNewCases),
    timeoutMs: options.drainTimeoutMs,
    // Many joins put one user's day over the volume rule: such a case escalates and waits for a human.
    waitingQuery: `${SA.approvalState.name} = 'pending'`,
    onSample: (sample) => {
      if (sent && sample.open === 0 && sample.closed >= sample.expected) settle();
    },
  });
  const policy = { maxAttempts: options.maxAttempts, timeoutMs: options.requestTimeoutMs, maxRetryAfterS: options.maxRetryAfterS };
  await closedLoop(items.length, senders, async (i) => {
    const url = `${target.urls[i % target.urls.length] as string}/webhooks/siem/generic`;
    const delivery = await deliverAlert(url, (items[i] as StormItem).body, policy);
    deliveries[i] = delivery;
    for (const a of delivery.attempts) if (is2xx(a) && a.body?.workflowId) opened.add(a.body.workflowId);
  });
  const sendSeconds = (performance.now() - t0) / 1000;
  sent = true;
  // The shipped answer names no case: each alert's case is read at its status link once routed (the drain is not
  // judged before: the cases those answers name are what it waits for).
  const byAlert = new Map<string, Answer[]>();
  for (const [i, d] of deliveries.entries()) {
    const id = (items[i] as StormItem).body.alertId;
    byAlert.set(id, [...(byAlert.get(id) ?? []), ...d.attempts.filter(is2xx)]);
  }
  // Read once the runs settled (`after`): a join that opened a case is then found by its read, and the drain is
  // judged on the samples taken since, so it dates from when that case closed too. A drain that never settles is
  // read at the timeout, for the verdicts.
  if (options.statusReads === 'after') {
    let timer: NodeJS.Timeout | undefined;
    const how = await Promise.race([
      settled.then(() => 'runs settled'),
      new Promise<string>((r) => {
        timer = setTimeout(() => r('runs not settled within the drain timeout'), options.drainTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    target.log?.(`  storm: ${how} after ${((performance.now() - t0) / 1000).toFixed(1)} s; reading the status links`);
  }
  // Any HTTP process answers a status link: the routing is read from the case index in Temporal.
  const unresolved = await resolvePending(target.urls[0] as string, byAlert, senders, options.drainTimeoutMs);
  for (const answers of byAlert.values()) for (const a of answers) if (a.body?.workflowId) opened.add(a.body.workflowId);
  target.log?.(
    `  storm: every pending answer's case read at its statusUrl after ${((performance.now() - t0) / 1000).toFixed(1)} s (unresolved ${unresolved})`,
  );
  named = true;
  const drain = await drainPromise;
  const runs = await listRuns(target.visibility, query);
  const history = await sampleHistories(
    target.visibility,
    runs.map((r) => r.workflowId),
    options.historySample,
  );
  const health = { history, logLines: target.taskWarnings() - logBefore };
  if (drain.drainedAt === null) await terminateOpen(target.visibility, query, 'bench: storm block did not drain within the drain timeout');
  return { items, deliveries, sendSeconds, drain, health, verdicts: judgeStorm(items, deliveries, runs) };
}

async function stormProjectBlock(ctx: BenchContext, items: StormItem[], senders: number): Promise<StormProjectBlock> {
  const block = await runStorm(
    {
      urls: [ctx.stack.baseUrl],
      visibility: ctx.stack.bareClient,
      taskQueue: config(ctx).temporal.taskQueue,
      taskWarnings: () => logCount(ctx, 'project'),
      log: ctx.log,
    },
    items,
    senders,
    ctx.options,
  );
  if (block.drain.drainedAt === null)
    ctx.log(
      `  storm project block: not drained within ${ctx.options.drainTimeoutMs / 1000} s after sending; its open runs were terminated`,
    );
  return block;
}

async function stormBareBlock(ctx: BenchContext, runs: number, senders: number, label: string): Promise<StormBareBlock> {
  const tag = `${ctx.run}-${label}`;
  let started = 0;
  let failed = 0;
  let sent = false;
  const logBefore = logCount(ctx, 'bare');
  const since = new Date();
  const t0 = performance.now();
  const drainPromise = watchDrain({
    client: ctx.stack.bareClient,
    query: sideQuery(ctx, 'bare', since),
    t0,
    sampleMs: ctx.options.sampleMs,
    sendingDone: () => sent,
    expectedClosed: () => started,
    timeoutMs: ctx.options.drainTimeoutMs,
  });
  await closedLoop(runs, senders, async (i) => {
    const body = alertBody(`bench-${tag}-${i}`, { user: 'bare', host: 'bare', destDomain: 'bare' }, ctx.times.business);
    const r = await startBare(
      ctx.stack.bareStarter,
      ctx.stack.bareTaskQueue,
      `bench-bare-${tag}-${i}`,
      { alert: body },
      ctx.options.requestTimeoutMs,
    );
    if (r.ok) started++;
    else failed++;
  });
  const sendSeconds = (performance.now() - t0) / 1000;
  sent = true;
  const drain = await drainPromise;
  const ids = (await listRuns(ctx.stack.bareClient, sideQuery(ctx, 'bare', since))).map((r) => r.workflowId);
  const health = await taskHealth(ctx, 'bare', ids, logBefore);
  await clearUndrained(ctx, drain, sideQuery(ctx, 'bare', since), `storm bare block ${label}`);
  return { runs: started, failed, sendSeconds, drain, health };
}

export async function stormScenario(ctx: BenchContext, alerts: number, senders: number): Promise<Row[]> {
  const name = 'storm';
  ctx.log(
    `\n## ${name}: ${alerts} alerts from ${senders} closed-loop senders (60% new cases, 25% joins, 15% exact resends), ` +
      `503 retried after Retry-After, at most ${ctx.options.maxAttempts} attempts; ${ctx.options.blocks} block pair(s)`,
  );
  const random = prng(ctx.options.seed);
  const bares: StormBareBlock[] = [];
  const projects: StormProjectBlock[] = [];
  for (let b = 1; b <= ctx.options.blocks; b++) {
    const items = stormPlan(ctx, alerts, `${ctx.run}-storm-p${b}`, random);
    const newCases = items.filter((i) => i.kind === 'new').length;
    const bare = await stormBareBlock(ctx, newCases, senders, `storm-b${b}`);
    bares.push(bare);
    ctx.log(
      `${name} bare    #${b}: ${bare.runs} runs started (${bare.failed} failed) by ${senders} starters in ${secs(bare.sendSeconds)}; ${drainText(bare.drain)}`,
    );
    ctx.log(`  ${healthText(bare.health)}`);
    ctx.log(formatCurve(bare.drain.samples));
    const project = await stormProjectBlock(ctx, items, senders);
    projects.push(project);
    const v = project.verdicts;
    ctx.log(
      `${name} project #${b}: ${items.length} deliveries (${v.distinctAlerts} distinct alerts: ${newCases} new-case, ${v.distinctAlerts - newCases} join; ` +
        `${v.resends} exact resends), ${v.attempts} HTTP requests, sent in ${secs(project.sendSeconds)}; ${drainText(project.drain)}`,
    );
    ctx.log(
      `  acknowledged ${v.acknowledged} of ${v.distinctAlerts} distinct alerts, lost ${v.lost}, recorded twice ${v.recordedTwice}, ` +
        `acknowledged only by a later "duplicate" answer ${v.ackedOnlyAsDuplicate}; joins: ${v.joinsJoined} joined, ${v.joinsOpened} opened a new case (earlier case closed)`,
    );
    ctx.log(
      `  runs ${v.runs}, cases named in 2xx answers ${v.cases}, runs no answer names ${v.runsNoAnswerNames}, answered cases without a run ${v.casesWithoutRun}, ` +
        `duplicate runs ${v.duplicateRuns}; 503 answers ${v.answers503} (max ${ms(v.answers503Max)}, ${v.answers503WithoutRetryAfter} without Retry-After), other failures ${v.otherFailures}` +
        (v.otherFailures
          ? ` (${Object.entries(v.otherByKind)
              .map(([k, n]) => `${k}: ${n}`)
              .join(', ')})`
          : ''),
    );
    ctx.log(`  ${healthText(project.health)}`);
    ctx.log(formatCurve(project.drain.samples));
  }
  const total = (f: (v: StormVerdicts) => number) => sum(projects.map((p) => f(p.verdicts)));
  const drainMean = (ds: DrainResult[]) => sum(ds.map((d) => d.drainedAt ?? NaN)) / ds.length;
  const bareDrain = drainMean(bares.map((b) => b.drain));
  const projectDrain = drainMean(projects.map((p) => p.drain));
  const drainRatio = ratio(projectDrain, bareDrain);
  const max503 = Math.max(0, ...projects.map((p) => p.verdicts.answers503Max));
  const row = (figure: string, project: string, target: string, ok: boolean | null, bare = ''): Row => ({
    scenario: name,
    figure,
    bare,
    project,
    ratio: '',
    target,
    verdict: verdict(ok),
  });
  return [
    row(
      'distinct alerts acknowledged (>= one 2xx)',
      `${total((v) => v.acknowledged)} of ${total((v) => v.distinctAlerts)}`,
      'all',
      total((v) => v.lost) === 0,
    ),
    row('lost (no 2xx after every attempt)', String(total((v) => v.lost)), '0', total((v) => v.lost) === 0),
    row('recorded twice (two non-duplicate 2xx)', String(total((v) => v.recordedTwice)), '0', total((v) => v.recordedTwice) === 0),
    row(
      'acknowledged only as "duplicate" after a non-2xx (the non-2xx had recorded it)',
      String(total((v) => v.ackedOnlyAsDuplicate)),
      '0',
      total((v) => v.ackedOnlyAsDuplicate) === 0,
    ),
    row('duplicate runs', String(total((v) => v.duplicateRuns)), '0', total((v) => v.duplicateRuns) === 0),
    row(
      'playbook runs = cases named in 2xx answers',
      `${total((v) => v.runs)} = ${total((v) => v.cases)} (${total((v) => v.runsNoAnswerNames)} unnamed runs, ${total((v) => v.casesWithoutRun)} cases without run)`,
      'equal, 0 and 0',
      total((v) => v.runs) === total((v) => v.cases) && total((v) => v.runsNoAnswerNames) === 0 && total((v) => v.casesWithoutRun) === 0,
      `${sum(bares.map((b) => b.runs))} runs`,
    ),
    row(
      '503 answers: count / slowest',
      `${total((v) => v.answers503)} / ${ms(max503)}`,
      '503 within 1 s, with Retry-After',
      max503 <= 1000 && total((v) => v.answers503WithoutRetryAfter) === 0,
    ),
    {
      scenario: name,
      figure: 'backlog drained after the first send (mean)',
      bare: secs(bareDrain),
      project: secs(projectDrain),
      ratio: num(drainRatio, 2),
      target: '<= 1.3x bare',
      verdict: verdict(drainRatio <= 1.3),
    },
    ...healthRows(
      name,
      [...bares.map((b) => ({ side: BARE, value: b.health })), ...projects.map((p) => ({ side: PROJECT, value: p.health }))],
      [...bares.map((b) => ({ side: BARE, value: b.drain })), ...projects.map((p) => ({ side: PROJECT, value: p.drain }))],
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// 4. N runs waiting for approval at once: memory and history size.

interface WaitBlock {
  started: number;
  waiting: number;
  seconds: number;
  rss: number;
  peak: number;
  /** The product's HTTP app's RSS when it runs apart (`--roles split`). */
  httpRss: number | null;
  history: HistorySample;
}

async function waitUntilWaiting(ctx: BenchContext, query: string, expected: () => number): Promise<number> {
  const deadline = performance.now() + ctx.options.drainTimeoutMs;
  for (;;) {
    const waiting = await countRuns(ctx.stack.bareClient, query);
    if (waiting >= expected() || performance.now() > deadline) return waiting;
    await new Promise((r) => setTimeout(r, ctx.options.sampleMs));
  }
}

async function waitBlock(ctx: BenchContext, side: Side, n: number, senders: number): Promise<WaitBlock> {
  const tag = `${ctx.run}-wait-${side[0]}`;
  const since = new Date();
  const t0 = performance.now();
  const cases = new Set<string>();
  let started = 0;
  await closedLoop(n, senders, async (i) => {
    if (side === 'bare') {
      const body = alertBody(`bench-${tag}-${i}`, { user: 'bare', host: 'bare', destDomain: 'bare' }, ctx.times.offHours, true);
      const r = await startBare(
        ctx.stack.bareStarter,
        ctx.stack.bareTaskQueue,
        `bench-bare-${tag}-${i}`,
        { alert: body, waitForSignal: true },
        ctx.options.requestTimeoutMs,
      );
      if (r.ok) started++;
    } else {
      const escalated = alertBody(`bench-${tag}-${i}`, ctx.keys.take(), ctx.times.offHours, true);
      const d = await deliverAlert(webhook(ctx), escalated, retryPolicy(ctx));
      const named = caseNamed(d.final.body, escalated.alertId);
      if (is2xx(d.final) && named) cases.add(named);
    }
  });
  const expected = () => (side === 'bare' ? started : cases.size);
  // Both sides set ApprovalState = "pending" when they start waiting (the product as the Web UI's filter documents it).
  const query = `${sideQuery(ctx, side, since)} AND ExecutionStatus = 'Running' AND ApprovalState = 'pending'`;
  const waiting = await waitUntilWaiting(ctx, query, expected);
  const seconds = (performance.now() - t0) / 1000;
  // A moment for the worker to settle (activities done, caches filled) before memory is read.
  await new Promise((r) => setTimeout(r, 3000));
  const memory = processMemory((side === 'bare' ? ctx.stack.bare : ctx.stack.product).pid);
  const httpApp = side === 'project' && ctx.stack.productHttp ? processMemory(ctx.stack.productHttp.pid) : null;
  const ids = (await listRuns(ctx.stack.bareClient, query)).map((r) => r.workflowId);
  const history = await sampleHistories(ctx.stack.bareClient, ids, ctx.options.historySample);
  return { started: expected(), waiting, seconds, rss: memory.rss, peak: memory.peak, httpRss: httpApp?.rss ?? null, history };
}

export async function approvalWaitScenario(ctx: BenchContext, n: number, senders: number): Promise<Row[]> {
  const name = 'approval-wait';
  ctx.log(`\n## ${name}: ${n} escalated runs waiting for approval at once (off-hours alerts, distinct cases); one block pair`);
  const blocks: { side: Side; value: WaitBlock }[] = [];
  for (const side of SIDES) {
    const block = await waitBlock(ctx, side, n, senders);
    blocks.push({ side, value: block });
    ctx.log(
      `${name} ${side.padEnd(7)}: ${block.waiting} of ${block.started} waiting after ${secs(block.seconds)}; ` +
        `${side === 'bare' ? 'bare worker' : block.httpRss === null ? 'product (worker + HTTP app)' : 'product worker'} ` +
        `process RSS ${mib(block.rss)} (peak ${mib(block.peak)})${block.httpRss === null ? '' : `, HTTP app ${mib(block.httpRss)}`}; history ${num(block.history.eventsAvg, 0)} events (max ${num(block.history.eventsMax, 0)}), ` +
        `${num(block.history.bytesAvg / 1024)} KiB (max ${num(block.history.bytesMax / 1024)}) per waiting run (${block.history.sampled} sampled)`,
    );
  }
  const [bare, project] = [blocks[0]?.value as WaitBlock, blocks[1]?.value as WaitBlock];
  return [
    {
      scenario: name,
      figure: `runs waiting for approval (of ${n})`,
      bare: String(bare.waiting),
      project: String(project.waiting),
      ratio: '',
      target: `${n}`,
      verdict: verdict(project.waiting >= n),
    },
    {
      scenario: name,
      figure: 'worker process RSS with all waiting',
      bare: mib(bare.rss),
      project: mib(project.rss),
      ratio: num(ratio(project.rss, bare.rss), 2),
      target: '<= 1 GiB',
      verdict: verdict(project.rss <= 1024 ** 3),
    },
    {
      scenario: name,
      figure: 'worker process peak RSS (whole bench run)',
      bare: mib(bare.peak),
      project: mib(project.peak),
      ratio: '',
      target: '',
      verdict: '',
    },
    {
      scenario: name,
      figure: 'history events per waiting run',
      bare: num(bare.history.eventsAvg, 0),
      project: num(project.history.eventsAvg, 0),
      ratio: num(ratio(project.history.eventsAvg, bare.history.eventsAvg), 2),
      target: '',
      verdict: '',
    },
    {
      scenario: name,
      figure: 'history KiB per waiting run',
      bare: num(bare.history.bytesAvg / 1024),
      project: num(project.history.bytesAvg / 1024),
      ratio: num(ratio(project.history.bytesAvg, bare.history.bytesAvg), 2),
      target: '',
      verdict: '',
    },
  ];
}
