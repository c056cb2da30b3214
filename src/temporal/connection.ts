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

export async function connectClient(config: Config['temporal'], connectTimeout = '10s'): Promise<Client> {
  const connection = await Connection.connect({
    address: config.address,
    tls: tlsConfig(config),
    connectTimeout,
    interceptors: [retryInterceptor()],
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
  });
  // Every client encrypts and decrypts payloads with the configured keys (fail closed: no key, no client).
  return new Client({ connection, namespace: config.namespace, dataConverter: dataConverterFor(config.payloadCodec) });
}

export function connectWorker(config: Config['temporal']): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: config.address,
    tls: tlsConfig(config),
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
  });
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
