/**
 * `npm run soar -- <command>`: the operator's command line.
 *   start [--worker-only | --http-only]   run the service (what `npm start` runs)
 *   approve <workflowId> --as <approver> [--comment <text>]
 *   deny <workflowId> --as <approver> [--comment <text>]
 *   false-positive <workflowId> --as <approver> [--comment <text>]   close without containment
 *   show <workflowId> [--json]            a run's state (report as Markdown once closed)
 *   list [--decision ..] [--approval ..] [--stage ..] [--user ..] [--host ..] [--domain ..] [--source ..]
 *        [--severity ..] [--containment ..] [--status running|closed] [--query <visibility query>] [--limit n] [--json]
 *   history <workflowId> [--out <file.json>]   a run's event history as JSON (input for replay)
 *   replay <history.json>                 replays a history against the current workflow code
 *   audit verify [--file <audit.jsonl>]...   checks the audit files' chains, keys and signed heads, and each run's chain
 *   release <workflowId> --as <approver> [--comment <text>]   undo a held containment (waits for the result)
 *   confirm <workflowId> --as <approver> [--comment <text>]   confirm it (stops the lease re-escalation)
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DeterminismViolationError } from '@temporalio/workflow';
import { verifyAuditFile, verifyRunChains, type AuditKey, type AuditRecord } from './audit/audit-log';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ConfigError, readConfigFile, secretsOf, type Config } from './config';
import { approvalAnswer } from './format';
import { createLogger } from './logger';
import { start } from './start';
import { connectClient, connectConnection } from './temporal/connection';
import { formatSetupReport, NamespaceNotReadyError, SetupError, setupTemporal } from './temporal/setup';
import { confirmContainment, decideApproval, getRunView, releaseContainment } from './temporal/playbook-runs';
import { historyToJson } from './temporal/history-json';
import { replayHistoryFile } from './temporal/replay';
import { casesMatching, formatRunTable, listRuns, runListQuery } from './temporal/run-list';

const USAGE = `Usage: npm run soar -- <command>
  start [--worker-only | --http-only]
  approve <workflowId> --as <approver> [--comment <text>]
  deny <workflowId> --as <approver> [--comment <text>]
  false-positive <workflowId> --as <approver> [--comment <text>]
  show <workflowId> [--json]
  list [--decision escalate] [--approval pending] [--stage ..] [--user ..] [--host ..] [--domain ..] [--source ..]
       [--severity ..] [--containment ..] [--status running|closed] [--query '<visibility query>'] [--limit 50] [--json]
  history <workflowId> [--out <file.json>]
  replay <history.json>
  audit verify [--file <audit.jsonl>]...
  setup [--create-namespace] [--retention-days 30] [--generate-key]

  release <workflowId> --as <approver> [--comment <text>]
  confirm <workflowId> --as <approver> [--comment <text>]`;

class UsageError extends Error {}

/**
 * The configuration's secrets a command resolves, by path prefix; the rest need not be in its environment (an
 * operator running `list` or `approve` has Temporal's credentials, not the webhooks', Splunk's or Slack's).
 * Every command other than `start` and `audit` talks to Temporal only.
 */
function secretsUsedBy(command: string | undefined): string[] | undefined {
  switch (command) {
    case 'start':
      return undefined; // all of them
    case 'audit':
      return ['audit'];
    default:
      return ['temporal'];
  }
}

/**
 * Runs a command that sends a Workflow Update: a decision the run's validator rejected prints the validator's reason
 * and exits 3; the connection is always closed.
 */
async function updateCommand(config: Config, run: (client: Client) => Promise<number>): Promise<number> {
  const client = await connectClient(config.temporal);
  try {
    return await run(client);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError || (err as Error).name === 'WorkflowUpdateFailedError') {
      console.error(`Rejected: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
      return 3;
    }
    throw err;
  } finally {
    await client.connection.close();
  }
}

/**
 * `audit verify [--file f]...`: each file's chain, MACs and signed head, then every run's own chain over the records
 * of all the files (one per worker host). Exit 0 when all hold, 5 at the first break, 4 when a file is missing.
 */
async function auditVerify(files: string[], keys: readonly AuditKey[]): Promise<number> {
  const all: AuditRecord[] = [];
  for (const file of files) {
    if (!existsSync(file)) {
      console.error(`No audit file at ${file}: nothing has been recorded there (check audit.file).`);
      return 4;
    }
    console.error(`Verifying ${file}`);
    const result = await verifyAuditFile(file, { keys, progress: (n) => console.error(`  ${n} records checked`) });
    if (!result.ok) {
      const { line, seq, reason } = result.brokenAt;
      console.log(
        `BROKEN${files.length > 1 ? ` in ${file}` : ''} at record ${line}${seq !== null && seq !== line ? ` (seq ${seq})` : ''}: ${reason}. ${result.records} records before it are intact.`,
      );
      return 5;
    }
    console.log(`OK: ${result.records} records, hash chain intact; head ${result.headHash}${files.length > 1 ? ` (${file})` : ''}`);
    console.log(
      result.keyed === 0
        ? '  keys: UNKEYED (written without audit.keys: a rewrite with recomputed hashes or a cut tail would not show)'
        : `  keys: ${result.keyed} records keyed${result.unkeyed ? `, ${result.unkeyed} older unkeyed records before them` : ''}; MACs valid`,
    );
    const head = result.head;
    console.log(
      head.status === 'matches'
        ? `  signed head: record ${head.seq}, matches the end of the file`
        : head.status === 'behind'
          ? `  signed head: record ${head.seq}; the last record was written just before the process stopped (its head was not)`
          : '  signed head: none (unkeyed file)',
    );
    all.push(...result.parsed);
  }
  const runs = verifyRunChains(all);
  if (!runs.ok) {
    console.log(`BROKEN run chain of ${runs.run}: ${runs.reason}.`);
    return 5;
  }
  const closed = runs.runs.filter((r) => r.closed).length;
  const duplicates = runs.runs.reduce((n, r) => n + r.duplicates, 0);
  console.log(
    `  runs: ${runs.runs.length} run chains intact (${closed} closed, ${runs.runs.length - closed} open)` +
      `${duplicates ? `, ${duplicates} records written twice by retries on another host` : ''}` +
      `${runs.unchained ? `; ${runs.unchained} records from runs started before the run chain` : ''}`,
  );
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      as: { type: 'string' },
      comment: { type: 'string' },
      json: { type: 'boolean', default: false },
      'worker-only': { type: 'boolean', default: false },
      'http-only': { type: 'boolean', default: false },
      decision: { type: 'string' },
      approval: { type: 'string' },
      containment: { type: 'string' },
      stage: { type: 'string' },
      user: { type: 'string' },
      host: { type: 'string' },
      domain: { type: 'string' },
      source: { type: 'string' },
      severity: { type: 'string' },
      status: { type: 'string' },
      query: { type: 'string' },
      limit: { type: 'string' },
      out: { type: 'string' },
      file: { type: 'string', multiple: true },
      'create-namespace': { type: 'boolean', default: false },
      'retention-days': { type: 'string' },
      'generate-key': { type: 'boolean', default: false },
    },
  });
  const { config, deprecations } = readConfigFile(process.env, { secrets: secretsUsedBy(command) });
  // `start` logs them through the logger; the one-shot commands say them once on stderr.
  if (command !== 'start') for (const d of deprecations) console.error(`Warning: ${d.message}`);

  switch (command) {
    case 'start': {
      if (values['worker-only'] && values['http-only']) throw new UsageError('--worker-only and --http-only exclude each other');
      const logger = createLogger({ level: config.log.level, secrets: secretsOf(config) });
      for (const d of deprecations) logger.warn({ key: d.key, replacement: d.replacement }, d.message);
      await start(config, logger, { worker: !values['http-only'], http: !values['worker-only'] });
      return 0;
    }
    case 'approve':
    case 'deny':
    case 'false-positive': {
      const workflowId = positionals[0];
      const approver = values.as;
      if (!workflowId || !approver) throw new UsageError(`${command} needs a workflow ID and --as <approver>`);
      return updateCommand(config, async (client) => {
        const approval = await decideApproval(client, workflowId, {
          decision: command,
          approver,
          via: 'cli',
          ...(values.comment ? { comment: values.comment } : {}),
        });
        console.log(approvalAnswer(workflowId, approval));
        return 0;
      });
    }
    case 'release':
    case 'confirm': {
      const workflowId = positionals[0];
      if (!workflowId || !values.as) throw new UsageError(`${command} needs a workflow ID and --as <approver>`);
      const review = { approver: values.as, via: 'cli' as const, ...(values.comment ? { comment: values.comment } : {}) };
      return updateCommand(config, async (client) => {
        if (command === 'release') {
          const release = await releaseContainment(client, workflowId, review);
          if (release.status === 'not-requested' && release.firstRequestBy) {
            console.log(
              `${workflowId}: release pending: requested by ${release.firstRequestBy}; the subject's manager is unknown, so a second, different approver must also release it`,
            );
            return 0;
          }
          console.log(`${workflowId}: ${release.status} (requested by ${release.requestedBy} at ${release.requestedAt})`);
          for (const r of release.results) {
            const who = r.changedBy === 'this-run' ? ' (changed by this run)' : r.changedBy === 'someone-else' ? ' (not by this run)' : '';
            console.log(`  ${r.action} ${r.target} via ${r.provider}: ${r.status}${who}: ${r.detail}`);
          }
          return release.status === 'released' ? 0 : 5;
        }
        const lease = await confirmContainment(client, workflowId, review);
        if (lease.status !== 'confirmed' && lease.firstConfirmBy) {
          console.log(
            `${workflowId}: confirmation pending: confirmed by ${lease.firstConfirmBy}; the subject's manager is unknown, so a second, different approver must also confirm it`,
          );
          return 0;
        }
        console.log(`${workflowId}: containment confirmed by ${lease.confirmedBy} at ${lease.confirmedAt}`);
        return 0;
      });
    }
    case 'show': {
      const workflowId = positionals[0];
      if (!workflowId) throw new UsageError('show needs a workflow ID');
      const client = await connectClient(config.temporal);
      try {
        const view = await getRunView(client, workflowId);
        if (!view) {
          console.error(`No playbook run with workflow ID ${workflowId}`);
          return 4;
        }
        if (!values.json && 'report' in view && view.report) console.log(view.report.markdown);
        else console.log(JSON.stringify(view, null, 2));
        return 0;
      } finally {
        await client.connection.close();
      }
    }
    case 'list': {
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit is a number from 1 to 1000');
      let query: string;
      try {
        query = values.query !== undefined ? casesMatching(values.query) : runListQuery(values);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const client = await connectClient(config.temporal);
      try {
        if (!values.json) console.error(`Listing cases where ${query}`);
        const runs = await listRuns(client, query, limit);
        console.log(values.json ? JSON.stringify(runs, null, 2) : runs.length ? formatRunTable(runs) : 'No cases match.');
        if (!values.json) {
          const { count } = await client.workflow.count(query);
          console.error(
            `${count} ${count === 1 ? 'case matches' : 'cases match'}${count > runs.length ? ` (first ${runs.length} shown)` : ''}.`,
          );
        }
        return 0;
      } finally {
        await client.connection.close();
      }
    }
    case 'history': {
      const workflowId = positionals[0];
      if (!workflowId) throw new UsageError('history needs a workflow ID');
      const client = await connectClient(config.temporal);
      try {
        const history = await client.workflow.getHandle(workflowId).fetchHistory();
        const json = historyToJson(history);
        if (values.out) {
          await writeFile(values.out, json, 'utf8');
          console.error(`Wrote ${history.events?.length ?? 0} events to ${values.out}`);
        } else console.log(json);
        return 0;
      } finally {
        await client.connection.close();
      }
    }
    case 'replay': {
      const file = positionals[0];
      if (!file) throw new UsageError('replay needs a history JSON file');
      try {
        await replayHistoryFile(file, config, (line) => console.error(line));
        return 0;
      } catch (err) {
        if (err instanceof DeterminismViolationError || ['DeterminismViolationError', 'ReplayError'].includes((err as Error).name)) {
          console.error(`Replay failed: ${(err as Error).message}`);
          return 5;
        }
        throw err;
      }
    }
    case 'audit': {
      if (positionals[0] !== 'verify') throw new UsageError('audit takes one subcommand: verify');
      return auditVerify(values.file?.length ? values.file : [config.audit.file], config.audit.keys);
    }
    case 'setup': {
      const retentionDays = values['retention-days'] === undefined ? 30 : Number(values['retention-days']);
      if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) {
        throw new UsageError('--retention-days is a whole number of days from 1 to 3650');
      }
      console.error(`Setting up namespace ${config.temporal.namespace} at ${config.temporal.address}`);
      const connection = await connectConnection(config.temporal);
      try {
        const report = await setupTemporal(connection, config.temporal.payloadCodec, {
          namespace: config.temporal.namespace,
          createNamespace: values['create-namespace'],
          retentionDays,
          generateKey: values['generate-key'],
        });
        console.log(formatSetupReport(report));
        return 0;
      } catch (err) {
        if (err instanceof SetupError || /Payload encryption is on/.test((err as Error).message)) {
          console.error(`Setup incomplete: ${(err as Error).message}`);
          return 6;
        }
        throw err;
      } finally {
        await connection.close();
      }
    }
    default:
      throw new UsageError(command ? `Unknown command "${command}"` : 'No command given');
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`${(err as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    if (err instanceof NamespaceNotReadyError) {
      console.error(err.message);
      process.exit(6);
    }
    console.error(`Error: ${(err as Error).message}`);
    process.exit(1);
  },
);
