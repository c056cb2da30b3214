/**
 * The shared procedure behind every EDR isolation provider: look the device up, check its state first, ask only if
 * it is not already there (or on its way), then poll the vendor until it reports the final state, heartbeating each
 * step. Progress lives in the heartbeat details, so a retried activity or a new worker after a crash resumes polling
 * instead of asking again. "Already isolated" is success; a vendor that never gets there within the budget is a
 * failure ("requested, not verified"), never a success.
 */
import type {
  ActionContext,
  DeviceIsolationState,
  EndpointIsolationProvider,
  IsolationDirection,
  IsolationOps,
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
  already: boolean;
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

export async function runVerifiedIsolation(
  ops: IsolationOps,
  direction: IsolationDirection,
  target: IsolationTarget,
  ctx: ActionContext,
  timing: IsolationTiming,
): Promise<ProviderOutcome> {
  let progress = resumed(ctx.resume, direction);
  if (!progress) {
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
          status: 'refused',
          detail:
            `${devices.length} devices are named "${target.host}" (${devices.map((d) => d.id).join(', ')}), more than the ` +
            `limit of ${target.maxDevices} per run: nothing isolated; a human must pick the device.`,
          ref: { deviceIds: devices.map((d) => d.id).join(',') },
        };
      }
      deviceIds = devices.map((d) => d.id);
      hostnames = devices.map((d) => d.hostname);
    }
    if (deviceIds.length === 0) throw new ConnectorNotFoundError(ops.provider, `no device to ${direction} for "${target.host}"`);
    progress = { kind: 'isolation-progress', direction, startedAt: ctx.now(), deviceIds, hostnames, devices: {} };
    ctx.heartbeat(progress);
  }
  const comment = `T1567.002 playbook run ${target.workflowId}: ${direction === 'isolate' ? 'contain' : 'release'} ${target.host}`;
  const goal = GOAL[direction];

  for (const id of progress.deviceIds) {
    const p: DeviceProgress = (progress.devices[id] ??= { requested: false, actionId: null, done: false, already: false });
    if (p.done) continue;
    if (!p.requested) {
      const before = await ops.state(id, null, direction);
      if (before === goal) {
        p.done = true;
        p.already = true;
        ctx.heartbeat(progress);
        continue;
      }
      if (before === TRANSIT[direction]) {
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

  const all = progress.deviceIds;
  const already = all.every((id) => progress.devices[id]?.already);
  const verb = direction === 'isolate' ? 'isolated' : 'released from isolation';
  return {
    status: 'done',
    alreadyInState: already,
    detail: already
      ? `${target.host} (${all.join(', ')}) was already ${verb}; nothing requested.`
      : `${target.host} (${all.join(', ')}) ${verb}: verified with ${ops.provider}.`,
    ref: { deviceIds: all.join(',') },
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

  isolate(target: IsolationTarget, ctx: ActionContext): Promise<ProviderOutcome> {
    return runVerifiedIsolation(this.ops, 'isolate', target, ctx, this.timing);
  }

  release(target: IsolationTarget, ctx: ActionContext): Promise<ProviderOutcome> {
    return runVerifiedIsolation(this.ops, 'release', target, ctx, this.timing);
  }
}
