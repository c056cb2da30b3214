/**
 * Connections to Temporal from configuration alone: address, namespace, TLS (server CA, mTLS pair, SNI override)
 * and API key. Nothing here assumes the dev server.
 */
import { readFileSync } from 'node:fs';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { dataConverterFor } from './payload-codec';
import { nothingSent } from './recording-failure';

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/** Calls that change nothing: resending them is always harmless. */
const READ_ONLY = /\/(Get|Describe|List|Count|Query|Poll)[A-Za-z]*$/;

/**
 * The SDK's retries (same codes, same backoff), with two differences that keep a 503's `recorded: false` true:
 * - a write is resent only when the failed attempt certainly sent nothing (no connection, a refusal); one that may
 *   have reached Temporal (a connection lost mid-call) is returned to the caller, who says "unknown";
 * - no retry is scheduled past the call's deadline, so a call to an unreachable server fails at its deadline, not
 *   up to a backoff step (5 s) later.
 */
export function retryInterceptor(): Interceptor {
  const defaults = defaultGrpcRetryOptions();
  return (options, nextCall) => {
    const readOnly = READ_ONLY.test(options.method_definition.path);
    const deadline = options.deadline === undefined ? Infinity : new Date(options.deadline).getTime();
    let delay = 0;
    return makeGrpcRetryInterceptor({
      retryableDecider: (attempt, status) => {
        if (!defaults.retryableDecider(attempt, status) || !(readOnly || nothingSent(status))) return false;
        delay = defaults.delayFunction(attempt, status);
        return Date.now() + delay < deadline;
      },
      delayFunction: () => delay,
    })(options, nextCall);
  };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`temporal.tls.${what}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export function tlsConfig(config: Config['temporal']): TLSConfig | boolean {
  const tls = config.tls;
  if (!tls.enabled) return Boolean(config.apiKey); // API keys (Temporal Cloud) only travel over TLS.
  if ((tls.clientCertFile === undefined) !== (tls.clientKeyFile === undefined)) {
    throw new Error('temporal.tls: clientCertFile and clientKeyFile go together');
  }
  return {
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    ...(tls.caCertFile ? { serverRootCACertificate: readPem(tls.caCertFile, 'caCertFile') } : {}),
    ...(tls.clientCertFile && tls.clientKeyFile
      ? { clientCertPair: { crt: readPem(tls.clientCertFile, 'clientCertFile'), key: readPem(tls.clientKeyFile, 'clientKeyFile') } }
      : {}),
  };
}

/**
 * "Failed to connect before the deadline" says nothing about why: name the address and what the TLS settings make
 * likely (a refused client certificate looks exactly like an unreachable server to the client).
 */
export function connectFailure(config: Config['temporal'], err: unknown): Error {
  const tls = config.tls;
  const hint = tls.enabled
    ? tls.clientCertFile
      ? `TLS with client certificate ${tls.clientCertFile}: is the server up, does it trust the CA that signed it, and does ` +
        `its certificate match ${tls.serverName ?? config.address.split(':')[0]}?`
      : 'TLS without a client certificate: a server that requires mTLS refuses the connection (set temporal.tls.clientCertFile and clientKeyFile)'
    : config.apiKey
      ? 'TLS with an API key: is the address and the key right?'
      : 'plain TCP: is the server up, and does it require TLS (temporal.tls.enabled)?';
  return new Error(`Cannot connect to Temporal at ${config.address} (${hint}): ${(err as Error).message}`, { cause: err });
}

/** A bare connection (no data converter): for operator calls such as `soar setup`, which need no payload key. */
export async function connectConnection(config: Config['temporal'], connectTimeout = '10s'): Promise<Connection> {
  const options = {
    address: config.address,
    tls: tlsConfig(config),
    connectTimeout,
    interceptors: [retryInterceptor()],
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
  };
  try {
    return await Connection.connect(options);
  } catch (err) {
    throw connectFailure(config, err);
  }
}

export async function connectClient(config: Config['temporal'], connectTimeout = '10s'): Promise<Client> {
  const connection = await connectConnection(config, connectTimeout);
  // Every client encrypts and decrypts payloads with the configured keys (fail closed: no key, no client).
  return new Client({ connection, namespace: config.namespace, dataConverter: dataConverterFor(config.payloadCodec) });
}

export async function connectWorker(config: Config['temporal']): Promise<NativeConnection> {
  const options = { address: config.address, tls: tlsConfig(config), ...(config.apiKey ? { apiKey: config.apiKey } : {}) };
  try {
    return await NativeConnection.connect(options);
  } catch (err) {
    throw connectFailure(config, err);
  }
}

/** True when the server answers a cheap RPC within the deadline. */
export async function temporalReachable(client: Client, timeoutMs = 2000): Promise<boolean> {
  try {
    await client.connection.withDeadline(Date.now() + timeoutMs, () => client.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}
