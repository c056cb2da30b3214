/**
 * `POST /slack/interactions`: Slack's button clicks on approval messages, and the "Release containment" button on
 * the contained message (a `releaseContainment` Update with `via: 'slack'`; the same validator as the CLI's).
 *
 * Order matters: the signature is verified over the raw bytes before anything is parsed (an opaque 401 otherwise),
 * replays this process has seen inside the five-minute window are refused, then the payload is validated and the
 * team, app and button checked, and last, just before the click goes to its run, the request is claimed in Temporal (src/temporal/slack-request-receipts.ts), so a
 * replay to another HTTP replica is refused too (401); when Temporal cannot answer that claim, the click is refused
 * with a 503 (fail closed) and the clicker clicks again.
 *
 * Acknowledge first, decide after: Slack wants a 200 within 3 seconds, and a Workflow Update waits on a worker task
 * that a busy worker may not run that fast. A short-deadline Update would leave an ambiguous case (the deadline
 * passed, but the Update may still be accepted) and could make Slack retry the click. So the click is acknowledged as
 * soon as it is authenticated and well formed, and the decision then goes to the run as an Update (with an
 * idempotency key, so a repeat decides nothing twice). The run edits the approval message itself when it accepts a
 * decision; the clicker is told the outcome, acceptance or the validator's reason for refusal, through
 * `response_url` as an ephemeral message. If this process dies between the two, the click is lost and the approver
 * sees no change and clicks again: nothing is decided without the run's validator.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import type { Config } from '../../config';
import {
  APPROVAL_ACTIONS,
  APPROVAL_BLOCK_ID,
  RELEASE_ACTION_ID,
  RELEASE_BLOCK_ID,
  type ApprovalActionId,
} from '../../connectors/slack/blocks';
import { blockActionsPayload, buttonValueSchema, type BlockActionsPayload } from '../../connectors/slack/schemas';
import type { ApprovalDecisionInput, ContainmentReviewInput } from '../../contracts/playbook';
import { decideApprovalUpdate, releaseContainmentUpdate } from '../../../workflows/messages';
import { zodDetails } from '../../error-details';
import { HttpError } from '../errors';
import { ReplayGuard, verifySlackSignature } from '../slack-verify';
import { SlackReceiptUnavailableError, SlackRequestReceipts, type SlackRequestGuard } from '../../temporal/slack-request-receipts';

export interface SlackRouteDeps {
  config: Config;
  slack: NonNullable<Config['slack']>;
  client: Client;
  now: () => Date;
  /** The replay guard shared by every replica; default: receipts in Temporal on the ingest task queue. */
  sharedReplays?: SlackRequestGuard;
}

const UNAUTHORIZED = { error: 'Unauthorized', details: [] };
/** The handler is synchronous; an Update that takes longer than this means Temporal or the worker is in trouble. */
const UPDATE_DEADLINE_MS = 10_000;
/** How long a Slack release waits for the run's verdict before it answers "accepted, running". */
const SETTLE_MS = 3_000;

export function slackRoutes(deps: SlackRouteDeps) {
  const { slack } = deps;
  // This process's memory answers a replay to the same replica at once; Temporal answers for every replica.
  const replays = new ReplayGuard();
  const shared =
    deps.sharedReplays ?? new SlackRequestReceipts(deps.client, deps.config.temporal.ingestTaskQueue ?? deps.config.temporal.taskQueue);
  const inFlight = new Set<Promise<void>>();

  return (app: FastifyInstance) => {
    // Slack posts `payload=<json>` form-encoded. Keep the raw bytes of whatever arrives and parse nothing until the
    // signature checks out: an unsigned request gets the same opaque 401 whatever its content type (the app's JSON
    // parser would answer 400, an unknown type 415, and so say something before authentication).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
      request.rawBody = body as Buffer;
      done(null, undefined);
    });
    // Decisions still being handed to their runs finish before the server closes.
    app.addHook('onClose', async () => {
      await Promise.allSettled([...inFlight]);
    });

    app.post('/slack/interactions', async (request, reply) => {
      const verdict = verifySlackSignature(
        { signingSecret: slack.signingSecret, now: deps.now },
        { timestamp: request.headers['x-slack-request-timestamp'], signature: request.headers['x-slack-signature'] },
        request.rawBody,
      );
      if (!verdict.ok) {
        request.log.warn({ reason: verdict.reason, ip: request.ip }, 'Slack request refused: verification failed');
        return reply.code(401).send(UNAUTHORIZED);
      }
      if (!replays.firstSeen(verdict.signature, verdict.timestamp, deps.now().getTime())) {
        request.log.warn({ ip: request.ip }, 'Slack request refused: replayed signature');
        return reply.code(401).send(UNAUTHORIZED);
      }

      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') {
        throw new HttpError(415, 'Unsupported content type: Slack interactions are application/x-www-form-urlencoded', [
          { path: 'content-type', message: `got ${request.headers['content-type'] ?? 'none'}` },
        ]);
      }
      const payload = parsePayload(request.rawBody ?? Buffer.alloc(0));
      if (payload.team.id !== slack.teamId || payload.api_app_id !== slack.appId) {
        request.log.warn({ team: payload.team.id, app: payload.api_app_id }, 'Slack request refused: other workspace or app');
        throw new HttpError(403, 'This Slack workspace or app may not act here');
      }
      const action = payload.actions[0];
      if (action?.block_id === RELEASE_BLOCK_ID && action.action_id === RELEASE_ACTION_ID) {
        const value = buttonValueSchema.safeParse(safeJson(action.value ?? ''));
        if (!value.success) throw new HttpError(400, 'Invalid button value', zodDetails(value.error, action.value));
        const review: ContainmentReviewInput = {
          approver: payload.user.id,
          via: 'slack',
          comment: 'released from Slack',
          digest: value.data.d,
          slack: clickContext(payload, action),
        };
        const updateId = `slack-release:${payload.team.id}:${payload.user.id}:${action.action_ts}`;
        if (!(await claimOnce(shared, verdict, request.log))) return reply.code(401).send(UNAUTHORIZED);
        const task = release(deps, request.log, value.data.w, review, updateId, payload).finally(() => inFlight.delete(task));
        inFlight.add(task);
        return reply.code(200).send();
      }
      if (!action || action.block_id !== APPROVAL_BLOCK_ID || !Object.hasOwn(APPROVAL_ACTIONS, action.action_id)) {
        throw new HttpError(400, 'Unknown Slack action', [{ path: 'actions.0.action_id', message: 'is not an approval button' }]);
      }
      const value = buttonValueSchema.safeParse(safeJson(action.value ?? ''));
      if (!value.success) throw new HttpError(400, 'Invalid button value', zodDetails(value.error, action.value));

      const button = APPROVAL_ACTIONS[action.action_id as ApprovalActionId];
      const decision: ApprovalDecisionInput = {
        requestId: value.data.r,
        decision: button.decision,
        ...(button.actions ? { actions: [...button.actions] } : {}),
        approver: payload.user.id,
        via: 'slack',
        digest: value.data.d,
        slack: clickContext(payload, action),
      };
      if (!(await claimOnce(shared, verdict, request.log))) return reply.code(401).send(UNAUTHORIZED);
      const task = decide(deps, request.log, value.data.w, decision, payload).finally(() => inFlight.delete(task));
      inFlight.add(task);
      return reply.code(200).send();
    });
  };
}

const REPLAY_UNCHECKED =
  'Cannot act on this Slack request: the workflow service did not confirm it is not a replay. Click the button again.';

/**
 * False for a request another replica (or this one, before a restart) already took: the caller answers 401 as for
 * any replay. Throws a 503 when Temporal could not say (fail closed).
 */
async function claimOnce(
  shared: SlackRequestGuard,
  verdict: { signature: string; timestamp: number },
  log: FastifyBaseLogger,
): Promise<boolean> {
  let claimed;
  try {
    claimed = await shared.claim(verdict.signature, verdict.timestamp);
  } catch (err) {
    if (!(err instanceof SlackReceiptUnavailableError)) throw err;
    log.error({ err }, 'Slack request refused: the shared replay guard could not be asked (fail closed)');
    throw new HttpError(503, REPLAY_UNCHECKED, [], { 'retry-after': '1' });
  }
  if (claimed === 'replay') {
    log.warn('Slack request refused: replayed signature (claimed by another replica)');
    return false;
  }
  return true;
}

function safeJson(text: string): unknown {
  try {
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    return undefined;
  }
}

/** Where and by whom a button was clicked: what the run's validator checks a Slack decision or release against. */
function clickContext(payload: BlockActionsPayload, action: BlockActionsPayload['actions'][number]) {
  return {
    teamId: payload.team.id,
    channelId: payload.container.channel_id,
    messageTs: payload.container.message_ts,
    userId: payload.user.id,
    userName: payload.user.username ?? payload.user.name ?? '',
    actionId: action.action_id,
    actionTs: action.action_ts,
  };
}

function parsePayload(raw: Buffer): BlockActionsPayload {
  const form = new URLSearchParams(raw.toString('utf8'));
  const text = form.get('payload');
  if (text === null) throw new HttpError(400, 'Invalid Slack interaction', [{ path: 'payload', message: 'is required' }]);
  const json = safeJson(text);
  if (json === undefined) throw new HttpError(400, 'Invalid Slack interaction', [{ path: 'payload', message: 'is not valid JSON' }]);
  const parsed = blockActionsPayload.safeParse(json);
  if (!parsed.success) throw new HttpError(400, 'Invalid Slack interaction', zodDetails(parsed.error, json));
  return parsed.data;
}

/** Hands the decision to the run and tells the clicker what happened. Never throws. */
async function decide(
  deps: SlackRouteDeps,
  log: FastifyBaseLogger,
  workflowId: string,
  decision: ApprovalDecisionInput,
  payload: BlockActionsPayload,
): Promise<void> {
  const context = { workflowId, requestId: decision.requestId, decision: decision.decision, slack: decision.slack };
  let outcome: string;
  try {
    const handle = deps.client.workflow.getHandle(workflowId);
    const state = await deps.client.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
      handle.executeUpdate(decideApprovalUpdate, {
        args: [decision],
        // A repeat of the same click (same user, same action_ts) is the same Update: decided once.
        updateId: `slack:${decision.slack?.teamId}:${decision.approver}:${decision.slack?.actionTs}`,
      }),
    );
    log.info({ ...context, status: state.status }, 'Slack decision accepted');
    outcome =
      state.status === 'pending'
        ? state.awaitingSecondBecause && !state.awaitingSecondBecause.startsWith('endpoint isolation')
          ? `:hourglass: Your decision is recorded; it waits for a second, different approver: ${state.awaitingSecondBecause}.`
          : ':hourglass: Your approval is recorded. Endpoint isolation waits for a second, different approver.'
        : `:white_check_mark: Your decision is recorded: *${state.status}*.`;
  } catch (err) {
    outcome = refusalOutcome(log, context, err, {
      what: 'decision',
      gone: 'this run no longer waits for a decision',
      unconfirmed: 'If the message does not change, click again (a decision is never applied twice).',
    });
  }
  await respond(deps, log, payload.response_url, outcome);
}

/**
 * Hands a release request to the run (the validator applies the approver rules) and tells the clicker whether it was
 * accepted. Only acceptance is awaited: the release itself runs as durable steps that may poll a vendor for minutes;
 * its result is in the run (`GET /runs/:id`, `soar show`) and the audit trail. Never throws.
 */
async function release(
  deps: SlackRouteDeps,
  log: FastifyBaseLogger,
  workflowId: string,
  review: ContainmentReviewInput,
  updateId: string,
  payload: BlockActionsPayload,
): Promise<void> {
  const context = { workflowId, approver: review.approver, updateId };
  let outcome: string;
  try {
    const handle = deps.client.workflow.getHandle(workflowId);
    const update = await deps.client.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
      handle.startUpdate(releaseContainmentUpdate, { args: [review], updateId, waitForStage: WorkflowUpdateStage.ACCEPTED }),
    );
    // A rejection (or a release that finished at once) comes with the start's answer; an accepted release runs on.
    const settled = await Promise.race([
      update.result().then((state) => ({ state })),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), SETTLE_MS)),
    ]);
    log.info({ ...context, status: settled?.state.status ?? 'releasing' }, 'Slack release accepted');
    outcome = !settled
      ? ':arrows_counterclockwise: Release accepted: the run undoes what it changed, each step verified. ' +
        `Its result: \`npm run soar -- show ${workflowId}\` or GET /runs/${workflowId}.`
      : settled.state.status === 'not-requested' && settled.state.firstRequestBy
        ? ":hourglass: Your release is recorded; the subject's manager is unknown, so it waits for a second, different approver."
        : `:white_check_mark: Release recorded: *${settled.state.status}* (${settled.state.results.map((r) => `${r.action}: ${r.status}`).join(', ')}).`;
  } catch (err) {
    outcome = refusalOutcome(log, context, err, {
      what: 'release',
      gone: 'this run no longer holds a containment',
      unconfirmed: 'Check the run before clicking again (a click is never applied twice).',
    });
  }
  await respond(deps, log, payload.response_url, outcome);
}

/** What the clicker hears when the run refused the click, has gone, or did not answer in time; logged the same way. */
function refusalOutcome(
  log: FastifyBaseLogger,
  context: Record<string, unknown>,
  err: unknown,
  words: { what: 'decision' | 'release'; gone: string; unconfirmed: string },
): string {
  if (err instanceof WorkflowUpdateFailedError) {
    const reason = err.cause instanceof Error ? err.cause.message : err.message;
    log.warn({ ...context, reason }, `Slack ${words.what} rejected by the run`);
    return `:no_entry: Not accepted: ${reason}`;
  }
  if (err instanceof WorkflowNotFoundError) {
    log.warn(context, `Slack ${words.what} for a run that does not exist or has closed`);
    return `:no_entry: Not accepted: ${words.gone}.`;
  }
  // Possibly the deadline passed after the run accepted it: say only what is known.
  log.error({ ...context, err }, `Slack ${words.what} could not be confirmed`);
  return `:warning: Your ${words.what} could not be confirmed: the workflow service did not answer in time. ${words.unconfirmed}`;
}

async function respond(deps: SlackRouteDeps, log: FastifyBaseLogger, url: string | undefined, text: string): Promise<void> {
  if (!url) return;
  if (!url.startsWith(deps.slack.responseUrlPrefix)) {
    log.warn('Not answering on a response_url outside the configured prefix (slack.responseUrlPrefix)');
    return;
  }
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) log.warn({ status: res.status }, 'Slack response_url refused the outcome');
  } catch (err) {
    log.warn({ err }, 'Could not post the outcome to response_url');
  }
}
