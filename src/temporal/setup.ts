/**
 * What a Temporal namespace needs before this worker can use it, checked and (on request) put in place:
 * - the namespace itself (`soar setup --create-namespace`; on Temporal Cloud namespaces are created in the console);
 * - the custom search attributes every run sets (src/contracts/search-attributes.ts); a start that lacks them
 *   would answer every alert with an error, so `npm start` refuses to start instead and names the command;
 * - the payload encryption keys (every worker and HTTP process must hold the same key ring).
 * Idempotent: a second `setup` finds everything in place and says so.
 */
import type { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { Config } from '../config';
import { ALL_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';
import { ensureKeyFile, payloadKeys } from './payload-codec';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

const INDEXED: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.TEXT]: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.DOUBLE]: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  [SearchAttributeType.BOOL]: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

const typeName = (t: temporal.api.enums.v1.IndexedValueType | undefined): string =>
  t === undefined ? 'none' : (IndexedValueType[t] ?? String(t)).replace('INDEXED_VALUE_TYPE_', '');

export const SETUP_COMMAND = 'npm run soar -- setup';

export interface SearchAttributeCheck {
  missing: { name: string; type: string }[];
  wrongType: { name: string; has: string; wants: string }[];
}

/** What the checks need of a connection: the client's `Connection` and the worker's `NativeConnection` both have it. */
type OperatorConnection = Pick<Connection, 'operatorService'>;

/** Compares the namespace's custom search attributes with the ones this worker sets. */
export async function checkSearchAttributes(connection: OperatorConnection, namespace: string): Promise<SearchAttributeCheck> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const custom = listed.customAttributes ?? {};
  const check: SearchAttributeCheck = { missing: [], wrongType: [] };
  for (const key of ALL_SEARCH_ATTRIBUTES) {
    const wants = INDEXED[key.type];
    const has = custom[key.name];
    if (has === undefined) check.missing.push({ name: key.name, type: typeName(wants) });
    else if (has !== wants) check.wrongType.push({ name: key.name, has: typeName(has), wants: typeName(wants) });
  }
  return check;
}

/** The one message a start against an unprepared namespace fails with: what is missing and the command that fixes it. */
export function namespaceNotReadyMessage(namespace: string, check: SearchAttributeCheck): string | null {
  const parts: string[] = [];
  if (check.missing.length > 0) {
    parts.push(`lacks the search attributes ${check.missing.map((m) => `${m.name} (${m.type})`).join(', ')}`);
  }
  if (check.wrongType.length > 0) {
    parts.push(
      `has search attributes of the wrong type: ${check.wrongType.map((w) => `${w.name} is ${w.has}, must be ${w.wants}`).join(', ')}`,
    );
  }
  if (parts.length === 0) return null;
  const fix =
    check.wrongType.length > 0
      ? 'a search attribute cannot change type: remove it (`temporal operator search-attribute remove`) or use another namespace, then run'
      : 'run';
  return (
    `Temporal namespace "${namespace}" ${parts.join('; ')}. Every run sets them, so nothing can start: ${fix} ` +
    `\`${SETUP_COMMAND}\` once against this namespace (docs/operations/deployment.md, "Production").`
  );
}

/** Thrown at start-up when the namespace cannot take runs; its message names the command that fixes it. */
export class NamespaceNotReadyError extends Error {
  override name = 'NamespaceNotReadyError';
}

/**
 * The start-up check (every role, every server): refuse to start against a namespace that does not exist or lacks
 * the search attributes, rather than answer every alert with an error.
 */
export async function assertNamespaceReady(connection: OperatorConnection, namespace: string): Promise<void> {
  let check: SearchAttributeCheck;
  try {
    check = await checkSearchAttributes(connection, namespace);
  } catch (err) {
    if (isNotFound(err)) {
      throw new NamespaceNotReadyError(
        `Temporal namespace "${namespace}" does not exist on this server: create it (\`${SETUP_COMMAND} --create-namespace\` on a ` +
          'self-hosted cluster; the Temporal Cloud console for Cloud) or set temporal.namespace.',
      );
    }
    throw err;
  }
  const message = namespaceNotReadyMessage(namespace, check);
  if (message) throw new NamespaceNotReadyError(message);
}

export interface SetupOptions {
  namespace: string;
  /** Register the namespace when it does not exist (self-hosted clusters; Temporal Cloud namespaces come from its console). */
  createNamespace: boolean;
  retentionDays: number;
  /** Generate the key ring file when encryption is on and no key exists. */
  generateKey: boolean;
  /** How long to wait for a newly registered namespace to become usable. */
  namespaceReadyTimeoutMs?: number;
}

export interface SetupReport {
  namespace: { name: string; action: 'present' | 'created' };
  searchAttributes: { name: string; type: string; action: 'present' | 'added' }[];
  payloadCodec: { action: 'disabled' | 'configured keys' | 'key file present' | 'key file generated'; keyFile?: string; keys: number };
}

class SetupError extends Error {}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: number; name?: string; message?: string };
  return e.code === 5 || e.name === 'NamespaceNotFoundError' || /not found/i.test(e.message ?? '');
}

async function namespaceExists(connection: Connection, namespace: string): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Brings the namespace into the shape this worker needs; throws a SetupError naming what it could not do. */
export async function setupTemporal(
  connection: Connection,
  codec: Config['temporal']['payloadCodec'],
  options: SetupOptions,
): Promise<SetupReport> {
  const { namespace } = options;
  let nsAction: SetupReport['namespace']['action'] = 'present';
  if (!(await namespaceExists(connection, namespace))) {
    if (!options.createNamespace) {
      throw new SetupError(
        `Temporal namespace "${namespace}" does not exist. Create it (\`${SETUP_COMMAND} --create-namespace\` on a self-hosted ` +
          'cluster; the Temporal Cloud console for Cloud) or set temporal.namespace.',
      );
    }
    await connection.workflowService.registerNamespace({
      namespace,
      description: 'SOAR playbook worker (T1567.002)',
      workflowExecutionRetentionPeriod: msToTs(`${options.retentionDays} days`),
    });
    nsAction = 'created';
  }

  // A namespace just registered takes a few seconds to reach every frontend's cache: retry until it is usable.
  const deadline = Date.now() + (options.namespaceReadyTimeoutMs ?? 60_000);
  let check: SearchAttributeCheck;
  for (;;) {
    try {
      check = await checkSearchAttributes(connection, namespace);
      break;
    } catch (err) {
      if (!isNotFound(err) || Date.now() > deadline) throw err;
      await sleep(1000);
    }
  }
  if (check.wrongType.length > 0) throw new SetupError(namespaceNotReadyMessage(namespace, check) ?? 'search attribute types differ');
  const missing = new Set(check.missing.map((m) => m.name));
  if (missing.size > 0) {
    const searchAttributes = Object.fromEntries(
      ALL_SEARCH_ATTRIBUTES.filter((k) => missing.has(k.name)).map((k) => [
        k.name,
        INDEXED[k.type] as temporal.api.enums.v1.IndexedValueType,
      ]),
    );
    for (;;) {
      try {
        await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
        break;
      } catch (err) {
        if (!isNotFound(err) || Date.now() > deadline) throw err;
        await sleep(1000);
      }
    }
  }
  // Visibility stores take the new attributes asynchronously: wait until the namespace lists them all.
  for (;;) {
    const again = await checkSearchAttributes(connection, namespace);
    if (again.missing.length === 0) break;
    if (Date.now() > deadline) throw new SetupError(namespaceNotReadyMessage(namespace, again) ?? 'search attributes not listed');
    await sleep(1000);
  }

  let payloadCodec: SetupReport['payloadCodec'];
  if (!codec.enabled) payloadCodec = { action: 'disabled', keys: 0 };
  else if (codec.keys.length > 0) payloadCodec = { action: 'configured keys', keys: payloadKeys(codec).length };
  else {
    const generated = options.generateKey && ensureKeyFile(codec.keyFile);
    // payloadKeys fails closed with the message that says what to do when there is no key file.
    const keys = payloadKeys(codec).length;
    payloadCodec = { action: generated ? 'key file generated' : 'key file present', keyFile: codec.keyFile, keys };
  }

  return {
    namespace: { name: namespace, action: nsAction },
    searchAttributes: ALL_SEARCH_ATTRIBUTES.map((k) => ({
      name: k.name,
      type: typeName(INDEXED[k.type]),
      action: missing.has(k.name) ? 'added' : 'present',
    })),
    payloadCodec,
  };
}

export function formatSetupReport(report: SetupReport): string {
  const added = report.searchAttributes.filter((s) => s.action === 'added');
  const lines = [
    `Namespace ${report.namespace.name}: ${report.namespace.action === 'created' ? 'created' : 'already there'}`,
    added.length > 0
      ? `Search attributes added: ${added.map((s) => `${s.name} (${s.type})`).join(', ')}; ${report.searchAttributes.length - added.length} already there`
      : `Search attributes: all ${report.searchAttributes.length} already there`,
    `Payload encryption: ${report.payloadCodec.action}${report.payloadCodec.keyFile ? ` (${report.payloadCodec.keyFile})` : ''}` +
      (report.payloadCodec.keys > 0 ? `, ${report.payloadCodec.keys} key(s)` : ''),
  ];
  if (report.payloadCodec.action === 'key file generated') {
    lines.push(
      '  Every worker and HTTP process must use this same key ring: copy the file, or put its keys in temporal.payloadCodec.keys.',
    );
  }
  return lines.join('\n');
}

export { SetupError };
