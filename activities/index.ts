/**
 * Activities: thin adapters from the workflow to the injected connectors. They validate nothing the connectors
 * already validated, and translate connector errors into Temporal failures (see failures.ts).
 */
import { Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type {
  BaselineFinding,
  BusinessHoursFinding,
  ContainmentActionResult,
  ContainmentRequest,
  DeviceFinding,
  DomainFinding,
  HrFinding,
  PolicyChangesFinding,
  RunState,
  SlackApprover,
  SlackMessageRef,
} from '../src/contracts/playbook';
import { approvalDigest, type DigestInput } from '../src/approvals/digest';
import type {
  ApprovalNotice,
  ApprovalNotifier,
  ApprovalProgress,
  ApprovalRequest,
  BusinessHoursPolicy,
  ChangeRecords,
  CloudStorageCatalog,
  ActionContext,
  AccessRevocationProvider,
  AccessTarget,
  IsolationDirection,
  IsolationPlan,
  IsolationTarget,
  ContainmentEscalation,
  EndpointIsolationProvider,
  EscalationNotifier,
  ProviderOutcome,
  DeviceInventory,
  HrDirectory,
  ReportSink,
  DayQuery,
  RecordedUploads,
  Sourced,
  UploadBaselines,
} from '../src/contracts/ports';
import { ConnectorConfigurationError, ConnectorNotFoundError } from '../src/connectors/errors';
import { evaluateBusinessHours as evaluateHours, isValidTimezone } from '../src/enrichment/business-hours';
import { checkDomain } from '../src/enrichment/domain';
import { createCaseIndexActivities } from './case-start';
import { translated } from './failures';
import type { AuditEvent } from '../src/audit/audit-log';
import type { AuditReceipt, AuditTrail } from '../src/audit/trail';

export interface ActivityDeps {
  cloudStorage: CloudStorageCatalog;
  hr: HrDirectory;
  changes: ChangeRecords;
  devices: DeviceInventory;
  baselines: UploadBaselines;
  /** The uploads of the alerts recorded for a user (by every worker), seen from the asking case; src/wiring.ts. */
  recordedUploads?: (client: Client, askingWorkflowId: string) => RecordedUploads;
  businessHours: BusinessHoursPolicy;
  policyChangeWindowDays: number;
  notifier: ApprovalNotifier;
  containment: ContainmentProviders;
  escalations: EscalationNotifier;
  reports: ReportSink;
  /** The hash-chained audit trail (and its SIEM forwarding). */
  audit: AuditTrail;
}

/** The configured containment providers by name: one isolation provider, any number of access providers. */
export interface ContainmentProviders {
  isolation: Record<string, EndpointIsolationProvider>;
  access: Record<string, AccessRevocationProvider>;
}

/** Heartbeat details of an earlier attempt, heartbeats and a cancellable sleep, from Temporal's activity context. */
function actionContext(): ActionContext & { latest(): unknown } {
  const ctx = Context.current();
  let latest: unknown = ctx.info.heartbeatDetails as unknown;
  return {
    resume: ctx.info.heartbeatDetails as unknown,
    heartbeat: (details) => {
      latest = details;
      ctx.heartbeat(details);
    },
    sleep: (ms) => ctx.sleep(ms),
    now: () => Date.now(),
    latest: () => latest,
  };
}

/**
 * Runs a containment step with a heartbeat every third of the heartbeat timeout (repeating the latest details), so
 * a slow vendor call does not look like a dead worker, while a dead worker is still noticed within the timeout.
 */
async function keptAlive<T>(run: (ctx: ActionContext) => Promise<T>): Promise<T> {
  const context = actionContext();
  const activity = Context.current();
  const timeout = activity.info.heartbeatTimeoutMs;
  if (!timeout) return run(context);
  const timer = setInterval(() => activity.heartbeat(context.latest()), Math.max(100, Math.floor(timeout / 3)));
  try {
    return await run(context);
  } finally {
    clearInterval(timer);
  }
}

function pick<T>(providers: Record<string, T>, name: string, kind: string): T {
  const provider = Object.hasOwn(providers, name) ? providers[name] : undefined;
  if (!provider) throw new ConnectorConfigurationError(name, `no ${kind} provider "${name}" is configured on this worker`);
  return provider;
}

function toResult(
  action: ContainmentActionResult['action'],
  target: string,
  provider: string,
  outcome: ProviderOutcome,
): ContainmentActionResult {
  return {
    action,
    target,
    provider,
    status: outcome.status,
    detail: outcome.detail,
    at: new Date().toISOString(),
    ...(outcome.alreadyInState !== undefined ? { alreadyInState: outcome.alreadyInState } : {}),
    changedBy: outcome.changedBy ?? (outcome.status !== 'done' ? 'nobody' : outcome.alreadyInState ? 'someone-else' : 'this-run'),
    ...(outcome.ref ? { ref: outcome.ref } : {}),
  };
}

function isolationTarget(request: ContainmentRequest): IsolationTarget {
  return {
    workflowId: request.workflowId,
    host: request.host,
    maxDevices: request.maxDevices,
    ...(request.ref ? { ref: request.ref } : {}),
    ...(request.plan ? { plan: request.plan } : {}),
  };
}

function accessTarget(request: ContainmentRequest): AccessTarget {
  return {
    workflowId: request.workflowId,
    user: request.user,
    destDomain: request.destDomain,
    ...(request.ref ? { ref: request.ref } : {}),
    ...(request.before ? { before: request.before } : {}),
  };
}

export function createActivities(deps: ActivityDeps) {
  return {
    /** The case index's (local activities in its workflow tasks): start the case an alert opens; does a case still run. */
    ...createCaseIndexActivities(),

    /** Is the destination an approved cloud-storage domain? Which known service is it? */
    checkDestinationDomain: translated(async (input: { destDomain: string; destUrl: string | null }): Promise<Sourced<DomainFinding>> => {
      const [approved, services] = await Promise.all([deps.cloudStorage.approvedDomains(), deps.cloudStorage.knownServices()]);
      return { source: deps.cloudStorage.name, value: checkDomain(input.destDomain, input.destUrl, approved, services) };
    }),

    /** HR record of the user: employment status, manager, time zone, cloud-storage authorization. */
    lookupHrAuthorization: translated(async (input: { user: string }): Promise<Sourced<HrFinding>> => {
      const record = await deps.hr.lookupUser(input.user);
      if (!record) throw new ConnectorNotFoundError(deps.hr.name, `no HR record for user "${input.user}"`);
      return { source: deps.hr.name, value: record };
    }),

    /** Policy or configuration changes, exceptions and pilots related to cloud storage, recent to the event. */
    findCloudStoragePolicyChanges: translated(
      async (input: { user: string; eventTime: string }): Promise<Sourced<PolicyChangesFinding>> => {
        const until = new Date(input.eventTime);
        const since = new Date(until.getTime() - deps.policyChangeWindowDays * 86_400_000);
        const records = await deps.changes.listCloudStorageChanges({ since: since.toISOString(), until: until.toISOString() });
        return { source: deps.changes.name, value: { windowDays: deps.policyChangeWindowDays, records } };
      },
    ),

    /** Is the device managed and allowed to use cloud storage? */
    checkDeviceAuthorization: translated(async (input: { host: string }): Promise<Sourced<DeviceFinding>> => {
      const device = await deps.devices.lookupDevice(input.host);
      if (!device) throw new ConnectorNotFoundError(deps.devices.name, `device "${input.host}" is not in the inventory`);
      return { source: deps.devices.name, value: device };
    }),

    /**
     * The user's normal daily upload volume to cloud storage. With `timezone` (null: the organisation default), the
     * days are the user's local days and the finding carries the event's day so far (the volume rule's day total).
     */
    getUploadBaseline: translated(
      async (input: { user: string; eventTime?: string; timezone?: string | null }): Promise<Sourced<BaselineFinding>> => {
        let day: DayQuery | undefined;
        if (input.timezone !== undefined) {
          const timezone = input.timezone ?? deps.businessHours.defaultTimezone;
          if (!isValidTimezone(timezone)) {
            throw new ConnectorConfigurationError('upload-baselines', `unknown time zone "${timezone}" for ${input.user}`);
          }
          const ctx = Context.current();
          if (!deps.recordedUploads) throw new ConnectorConfigurationError(deps.baselines.name, 'no store of recorded uploads is wired');
          day = {
            timezone,
            timezoneSource: input.timezone === null ? 'organisation-default' : 'hr',
            recorded: deps.recordedUploads(ctx.client, ctx.info.workflowExecution?.workflowId ?? ''),
          };
        }
        const baseline = await deps.baselines.baselineFor(input.user, input.eventTime, day);
        if (!baseline) throw new ConnectorNotFoundError(deps.baselines.name, `no upload history for user "${input.user}"`);
        return { source: deps.baselines.name, value: baseline };
      },
    ),

    /** Business hours at the event time in the user's time zone (the organisation default when HR has none). */
    evaluateBusinessHours: translated((input: { eventTime: string; timezone: string | null }): Promise<Sourced<BusinessHoursFinding>> => {
      try {
        return Promise.resolve({
          source: 'business-hours-policy',
          value: evaluateHours(input.eventTime, input.timezone, deps.businessHours),
        });
      } catch (err) {
        throw new ConnectorConfigurationError(
          'business-hours-policy',
          `cannot evaluate time zone "${input.timezone}": ${(err as Error).message}`,
          { cause: err },
        );
      }
    }),

    /**
     * The digest an approval request is bound to: over the exact proposed actions (target and provider) and the
     * evidence. Every decision must name it.
     */
    prepareApproval: translated((input: DigestInput): Promise<{ digest: string }> => Promise.resolve({ digest: approvalDigest(input) })),

    /** Who may decide through the notifier now (Slack users and group members), or null: CLI decisions only. */
    resolveApprovers: translated(async (): Promise<SlackApprover[] | null> => {
      const approvers = await deps.notifier.resolveApprovers();
      log.info('Approvers resolved', { count: approvers?.length ?? 'cli-only' });
      return approvers;
    }),

    /** Sends the approval request to the humans who may decide it. */
    requestApproval: translated(async (request: ApprovalRequest): Promise<ApprovalNotice> => {
      const result = await deps.notifier.requestApproval(request);
      log.info('Approval requested', { via: result.via, requestId: request.requestId, message: result.message });
      return result;
    }),

    /** A reminder next to the waiting request. */
    remindApprovers: translated(
      async (input: { request: ApprovalRequest; message: SlackMessageRef | null; remindersSent: number }): Promise<void> => {
        await deps.notifier.remind(input.request, input.message, input.remindersSent);
      },
    ),

    /** The approval window passed: escalate to the second channel or group. */
    escalateApproval: translated(
      async (input: { request: ApprovalRequest; message: SlackMessageRef | null }): Promise<{ message: SlackMessageRef | null }> => {
        const result = await deps.notifier.escalate(input.request, input.message);
        log.warn('Approval escalated', { requestId: input.request.requestId, message: result.message });
        return result;
      },
    ),

    /** Edits the request in place (decided, contained, failed, expired) and reports progress next to it. */
    publishApprovalProgress: translated(async (progress: ApprovalProgress): Promise<void> => {
      await deps.notifier.publishProgress(progress);
    }),

    /**
     * Before an access change: what the provider is about to change (an app assignment, a suspension), read-only.
     * The result lands in the run's history before the change, so a retry after a lost answer can tell whose change
     * it finds. Null for providers whose undo does not depend on it.
     */
    observeCloudStorageAccess: translated(
      async (request: ContainmentRequest & { direction: 'revoke' | 'restore' }): Promise<{ before: Record<string, string> | null }> => {
        const provider = pick(deps.containment.access, request.provider, 'access');
        const observe = provider.observe?.bind(provider);
        if (!observe) return { before: null };
        const before = await keptAlive(() => observe(request.direction, accessTarget(request)));
        log.info('Cloud-storage access observed before the change', { provider: provider.name, direction: request.direction, before });
        return { before };
      },
    ),

    /** Revokes the user's cloud-storage access at one provider. Idempotent; verified where the vendor allows. */
    revokeCloudStorageAccess: translated(async (request: ContainmentRequest): Promise<ContainmentActionResult> => {
      const provider = pick(deps.containment.access, request.provider, 'access');
      const outcome = await keptAlive((ctx) => provider.revoke(accessTarget({ ...request, ref: undefined }), ctx));
      log.info('Cloud-storage access revocation', { status: outcome.status, provider: provider.name, target: request.user });
      return toResult('revoke-cloud-storage-access', request.user, provider.name, outcome);
    }),

    /**
     * Before an isolation or its release: the devices and their state, read-only. The result lands in the run's
     * history before anything is requested (the heartbeat details are throttled and may be lost); a guard-rail
     * refusal comes back as the action's result.
     */
    prepareEndpointIsolation: translated(
      async (
        request: ContainmentRequest & { direction: IsolationDirection },
      ): Promise<{ plan: IsolationPlan | null; result?: ContainmentActionResult }> => {
        const provider = pick(deps.containment.isolation, request.provider, 'isolation');
        const prepare = provider.prepare?.bind(provider);
        if (!prepare) return { plan: null };
        const prepared = await keptAlive(() => prepare(request.direction, isolationTarget(request)));
        if ('outcome' in prepared) {
          const action = request.direction === 'isolate' ? 'isolate-endpoint' : 'lift-endpoint-isolation';
          return { plan: null, result: toResult(action, request.host, provider.name, prepared.outcome) };
        }
        log.info('Endpoint isolation planned', { provider: provider.name, direction: request.direction, before: prepared.plan.before });
        return { plan: prepared.plan };
      },
    ),

    /** Isolates the endpoint and polls until the vendor reports it isolated; resumes from heartbeats after a retry. */
    isolateEndpoint: translated(async (request: ContainmentRequest): Promise<ContainmentActionResult> => {
      const provider = pick(deps.containment.isolation, request.provider, 'isolation');
      const outcome = await keptAlive((ctx) => provider.isolate(isolationTarget({ ...request, ref: undefined }), ctx));
      log.info('Endpoint isolation', { status: outcome.status, provider: provider.name, target: request.host });
      return toResult('isolate-endpoint', request.host, provider.name, outcome);
    }),

    /** Undo of isolateEndpoint: lifts the isolation of the devices it isolated, verified. */
    liftEndpointIsolation: translated(async (request: ContainmentRequest): Promise<ContainmentActionResult> => {
      const provider = pick(deps.containment.isolation, request.provider, 'isolation');
      const outcome = await keptAlive((ctx) => provider.release(isolationTarget(request), ctx));
      log.info('Endpoint isolation lifted', { status: outcome.status, provider: provider.name, target: request.host });
      return toResult('lift-endpoint-isolation', request.host, provider.name, outcome);
    }),

    /** Undo of revokeCloudStorageAccess: restores what the revocation removed (where anything can be restored). */
    restoreCloudStorageAccess: translated(async (request: ContainmentRequest): Promise<ContainmentActionResult> => {
      const provider = pick(deps.containment.access, request.provider, 'access');
      const outcome = await keptAlive((ctx) => provider.restore(accessTarget(request), ctx));
      log.info('Cloud-storage access restored', { status: outcome.status, provider: provider.name, target: request.user });
      return toResult('restore-cloud-storage-access', request.user, provider.name, outcome);
    }),

    /** Escalates a containment question to Tier 2 (guard rail refusal, unconfirmed lease). */
    escalateToTier2: translated(async (notice: ContainmentEscalation): Promise<{ via: string }> => {
      const result = await deps.escalations.escalate(notice);
      log.warn('Escalated to Tier 2', { via: result.via, reason: notice.reason });
      return result;
    }),

    /**
     * Appends an audit record (idempotent per event key) and forwards it to the SIEM when configured. Every failure
     * is retried, including a refused SIEM token: the run waits, visibly, rather than acting unrecorded.
     */
    recordAuditEvent: async (event: AuditEvent): Promise<AuditReceipt> => {
      const receipt = await deps.audit.record(event);
      log.info('Audit record', { type: event.type, seq: receipt.seq, appended: receipt.appended, forwardedTo: deps.audit.forwardsTo });
      return receipt;
    },

    /** Publishes the final case report. */
    publishReport: translated(async (state: RunState): Promise<{ location: string }> => {
      const result = await deps.reports.publish(state);
      log.info('Case report published', { location: result.location, outcome: state.outcome });
      return result;
    }),

    /**
     * The close in one activity: appends `before` to the audit trail (facts the report does not wait for: a benign
     * decision), publishes the final report, then appends `after` (the close), every record linked to the one before
     * it in the run's chain (`runPrevHash`: the run's head before the first). So a report that cannot be published
     * never leaves the decision unrecorded, and the close is never recorded before the report is out. A retry writes
     * no record twice (event keys) and publishes the same report again (the sink overwrites it). The report's failures
     * are translated as `publishReport`'s are; the audit trail's are retried, as `recordAuditEvent`'s.
     */
    publishReportAndRecord: async (input: {
      state: RunState;
      before: AuditEvent[];
      after: AuditEvent[];
      runPrevHash: string;
    }): Promise<{ location: string; runHash: string | null }> => {
      let runPrevHash = input.runPrevHash;
      let runHash: string | null = null;
      const append = async (events: AuditEvent[]) => {
        for (const event of events) {
          const receipt = await deps.audit.record({ ...event, runPrevHash });
          log.info('Audit record', { type: event.type, seq: receipt.seq, appended: receipt.appended, forwardedTo: deps.audit.forwardsTo });
          if (receipt.runHash) runPrevHash = runHash = receipt.runHash;
        }
      };
      await append(input.before);
      const result = await translated(() => deps.reports.publish(input.state))();
      log.info('Case report published', { location: result.location, outcome: input.state.outcome });
      await append(input.after);
      return { location: result.location, runHash };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
