/**
 * The shared procedure behind every EDR isolation provider, in two durable steps. `prepare` looks the devices up and
 * reads their state before anything is asked; its result lands in the run's history (an activity result) BEFORE the
 * request. The request step then asks only if a device is not already there (or on its way) and polls the vendor
 * until it reports the final state, heartbeating each step. A retry (a crash, a lost answer, a 5xx after the vendor
 * acted) compares what it finds with the recorded plan: a device found in the goal state counts as this run's doing
 * unless it was so before this run asked; where the vendor records who asked (`findOwnRequest`), its record decides.
 * Heartbeat details only save polling work: the SDK throttles them, so they never carry the fact "we asked".
 * "Already isolated" is success; a vendor that never gets there within the budget is a failure ("requested, not
 * verified"), never a success. Runs started before plans existed keep the single-step procedure.
 */
import type {
  ActionContext,
  DeviceIsolationState,
  EndpointIsolationProvider,
  IsolationDirection,
  IsolationOps,
  IsolationPlan,
  IsolationTarget,
  ProviderOutcome,
} from '../contracts/ports';
import { ConnectorActionFailedError, ConnectorNotFoundError } from '../connectors/errors';

export type { DeviceIsolationState, IsolationDirection, IsolationOps } from '../contracts/ports';

export interface IsolationTiming {
  pollIntervalMs: number;
  /** From the first attempt's start: after this, an unfinished action is reported as not verified. */
  verifyTimeoutMs: number;
}

interface DeviceProgress {
  requested: boolean;
  actionId: string | null;
  done: boolean;
  /** Not this run's doing: so before this run asked, or (per the vendor's record) someone else's request. */
  already: boolean;
  /** This run's request, sent by an earlier attempt whose answer was lost (found on a retry, not sent again). */
  earlier?: boolean;
  /** Someone else's request, seen after this run looked (the vendor shows no request of this run). */
  otherAfter?: boolean;
}

/** What the heartbeat details hold: enough to resume without a second request. */
export interface IsolationProgress {
  kind: 'isolation-progress';
  direction: IsolationDirection;
  startedAt: number;
  deviceIds: string[];
  hostnames: string[];
  devices: Record<string, DeviceProgress>;
}

function resumed(value: unknown, direction: IsolationDirection): IsolationProgress | null {
  if (typeof value !== 'object' || value === null) return null;
  const p = value as Partial<IsolationProgress>;
  if (p.kind !== 'isolation-progress' || p.direction !== direction || !Array.isArray(p.deviceIds)) return null;
  return p as IsolationProgress;
}

const GOAL: Record<IsolationDirection, DeviceIsolationState> = { isolate: 'isolated', release: 'normal' };
const TRANSIT: Record<IsolationDirection, DeviceIsolationState> = { isolate: 'isolating', release: 'releasing' };

/** The devices to act on: on release the ones the isolation recorded, else a lookup by host name (guard rail). */
async function devicesFor(
  ops: IsolationOps,
  direction: IsolationDirection,
  target: IsolationTarget,
): Promise<{ deviceIds: string[]; hostnames: string[] } | { outcome: ProviderOutcome }> {
  let deviceIds: string[];
  let hostnames: string[];
  const fromRef = target.ref?.deviceIds;
  if (direction === 'release' && fromRef) {
    deviceIds = fromRef.split(',').filter((id) => id.length > 0);
    hostnames = deviceIds.map(() => target.host);
  } else {
    const devices = await ops.findDevices(target.host);
    if (devices.length === 0) throw new ConnectorNotFoundError(ops.provider, `no device named "${target.host}"`);
    if (devices.length > target.maxDevices) {
      return {
        outcome: {
          status: 'refused',
          detail:
            `${devices.length} devices are named "${target.host}" (${devices.map((d) => d.id).join(', ')}), more than the ` +
            `limit of ${target.maxDevices} per run: nothing isolated; a human must pick the device.`,
          ref: { deviceIds: devices.map((d) => d.id).join(',') },
        },
      };
    }
    deviceIds = devices.map((d) => d.id);
    hostnames = devices.map((d) => d.hostname);
  }
  if (deviceIds.length === 0) throw new ConnectorNotFoundError(ops.provider, `no device to ${direction} for "${target.host}"`);
  return { deviceIds, hostnames };
}

/**
 * Step one: the devices and their state before this run asks anything. Read-only; the caller records the result
 * (in the run's history) before the request step runs.
 */
export async function prepareIsolation(
  ops: IsolationOps,
  direction: IsolationDirection,
  target: IsolationTarget,
  now: () => number,
): Promise<{ plan: IsolationPlan } | { outcome: ProviderOutcome }> {
  const found = await devicesFor(ops, direction, target);
  if ('outcome' in found) return found;
  const before: IsolationPlan['before'] = {};
  for (const id of found.deviceIds) before[id] = await ops.state(id, null, direction);
  return { plan: { ...found, before, preparedAt: now() } };
}

function commentFor(direction: IsolationDirection, target: IsolationTarget): string {
  // Defender keeps it as the action's requestorComment: the workflow ID in it is how a retry finds this run's request.
  return `T1567.002 playbook run ${target.workflowId}: ${direction === 'isolate' ? 'contain' : 'release'} ${target.host}`;
}

export async function runVerifiedIsolation(
  ops: IsolationOps,
  direction: IsolationDirection,
  target: IsolationTarget,
  ctx: ActionContext,
  timing: IsolationTiming,
): Promise<ProviderOutcome> {
  const plan = target.plan;
  let progress = resumed(ctx.resume, direction);
  if (!progress) {
    if (plan) {
      const { deviceIds, hostnames } = plan;
      progress = { kind: 'isolation-progress', direction, startedAt: plan.preparedAt, deviceIds, hostnames, devices: {} };
    } else {
      const found = await devicesFor(ops, direction, target);
      if ('outcome' in found) return found.outcome;
      progress = { kind: 'isolation-progress', direction, startedAt: ctx.now(), ...found, devices: {} };
    }
    ctx.heartbeat(progress);
  }
  const comment = commentFor(direction, target);
  const goal = GOAL[direction];
  const transit = TRANSIT[direction];

  for (const id of progress.deviceIds) {
    const p: DeviceProgress = (progress.devices[id] ??= { requested: false, actionId: null, done: false, already: false });
    if (p.done) continue;
    if (!p.requested && plan) {
      const before = plan.before[id];
      if (before === goal) {
        // So before this run asked: not this run's doing, and nothing to ask.
        p.done = true;
        p.already = true;
        ctx.heartbeat(progress);
        continue;
      }
      const own = ops.findOwnRequest ? await ops.findOwnRequest(id, direction, target.workflowId) : null;
      const now = own ? null : await ops.state(id, null, direction);
      if (own) {
        p.requested = true;
        p.actionId = own.actionId;
        p.earlier = true;
      } else if (before === transit) {
        // Someone else's request was under way before this run asked: followed, not repeated, not credited to us.
        p.requested = true;
        p.already = true;
      } else if (now === goal || now === transit) {
        p.requested = true;
        if (ops.findOwnRequest) {
          // The vendor records who asked and shows no request of this run: someone else acted after this run looked.
          p.already = true;
          p.otherAfter = true;
        } else {
          // It was not so when this run looked (recorded before it asked): the request of an earlier attempt whose
          // answer was lost (crash, dropped connection, 5xx after the vendor acted).
          p.earlier = true;
        }
      } else {
        const { actionId } = await ops.request(direction, id, comment);
        p.requested = true;
        p.actionId = actionId;
      }
      ctx.heartbeat(progress);
    } else if (!p.requested) {
      const before = await ops.state(id, null, direction);
      if (before === goal) {
        p.done = true;
        p.already = true;
        ctx.heartbeat(progress);
        continue;
      }
      if (before === transit) {
        // Someone (an earlier attempt whose heartbeat was lost, or an analyst) already asked: do not ask again.
        p.requested = true;
      } else {
        const { actionId } = await ops.request(direction, id, comment);
        p.requested = true;
        p.actionId = actionId;
      }
      ctx.heartbeat(progress);
    }
    for (;;) {
      const now = await ops.state(id, p.actionId, direction);
      if (now === goal) {
        p.done = true;
        ctx.heartbeat(progress);
        break;
      }
      if (ctx.now() - progress.startedAt > timing.verifyTimeoutMs) {
        throw new ConnectorActionFailedError(
          ops.provider,
          `${direction} of device ${id} was requested but the vendor still reports "${now}" after ` +
            `${Math.round(timing.verifyTimeoutMs / 1000)} s: not verified (check the console; the request may still complete)`,
        );
      }
      ctx.heartbeat(progress);
      await ctx.sleep(timing.pollIntervalMs);
    }
  }
  return outcomeOf(ops.provider, direction, target, progress, plan !== undefined);
}

function outcomeOf(
  provider: string,
  direction: IsolationDirection,
  target: IsolationTarget,
  progress: IsolationProgress,
  planned: boolean,
): ProviderOutcome {
  const all = progress.deviceIds;
  const verb = direction === 'isolate' ? 'isolated' : 'released from isolation';
  const ours = all.filter((id) => !progress.devices[id]?.already);
  const others = all.filter((id) => progress.devices[id]?.already);
  if (!planned) {
    const already = ours.length === 0;
    return {
      status: 'done',
      alreadyInState: already,
      changedBy: already ? 'someone-else' : 'this-run',
      detail: already
        ? `${target.host} (${all.join(', ')}) was already ${verb}; nothing requested.`
        : `${target.host} (${all.join(', ')}) ${verb}: verified with ${provider}.`,
      ref: { deviceIds: all.join(',') },
    };
  }
  const notOurs = (ids: string[]) => {
    const after = ids.filter((id) => progress.devices[id]?.otherAfter);
    const before = ids.filter((id) => !progress.devices[id]?.otherAfter);
    return [
      ...(before.length ? [`${before.join(', ')} was already ${verb} (or on its way) before this run asked: not by this run`] : []),
      ...(after.length
        ? [`${after.join(', ')} was ${verb} by someone else after this run looked (${provider} shows no request of this run)`]
        : []),
    ].join('; ');
  };
  if (ours.length === 0) {
    return {
      status: 'done',
      alreadyInState: true,
      changedBy: 'someone-else',
      detail: `${target.host}: ${notOurs(others)}; nothing requested, left as it is.`,
      ref: { deviceIds: all.join(',') },
    };
  }
  const earlier = ours.filter((id) => progress.devices[id]?.earlier);
  return {
    status: 'done',
    alreadyInState: false,
    changedBy: 'this-run',
    detail:
      `${target.host} (${ours.join(', ')}) ${verb} by this run: verified with ${provider}.` +
      (earlier.length
        ? ` The request for ${earlier.join(', ')} went out in an earlier attempt whose answer was lost (crash or error); it was not sent again.`
        : '') +
      (others.length ? ` ${notOurs(others)}; not part of this run's undo.` : ''),
    // Only what this run changed is undone.
    ref: { deviceIds: ours.join(',') },
  };
}

/** An EDR vendor's four calls (`IsolationOps`) made into an isolation provider by the shared procedure. */
export class VerifiedIsolation implements EndpointIsolationProvider {
  readonly name: string;

  constructor(
    private readonly ops: IsolationOps,
    private readonly timing: IsolationTiming,
  ) {
    this.name = ops.provider;
  }

  prepare(direction: IsolationDirection, target: IsolationTarget): Promise<{ plan: IsolationPlan } | { outcome: ProviderOutcome }> {
    return prepareIsolation(this.ops, direction, target, () => Date.now());
  }

  isolate(target: IsolationTarget, ctx: ActionContext): Promise<ProviderOutcome> {
    return runVerifiedIsolation(this.ops, 'isolate', target, ctx, this.timing);
  }

  release(target: IsolationTarget, ctx: ActionContext): Promise<ProviderOutcome> {
    return runVerifiedIsolation(this.ops, 'release', target, ctx, this.timing);
  }
}
