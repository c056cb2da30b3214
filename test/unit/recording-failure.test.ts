/**
 * What a failed call to Temporal says about the alert: certainly not recorded, or perhaps recorded. The SIEM is
 * told which (503 body `recorded`), and must never hear "not recorded" for an alert Temporal may hold.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MaybeRecorded, nothingSent, recordingFailure } from '../../src/temporal/recording-failure';

/** gRPC status codes (the numbers are the protocol's). */
const status = { CANCELLED: 1, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, ABORTED: 10, UNAVAILABLE: 14 } as const;

/** A grpc-js ServiceError as the Temporal client surfaces it, wrapped the way the SDK wraps it. */
function grpcError(code: number, details: string): Error {
  const err = Object.assign(new Error(`${code}: ${details}`), { code, details, metadata: { getMap: () => ({}) } });
  return new Error('Failed to start Workflow', { cause: err });
}

describe('recordingFailure', () => {
  const rows: [string, unknown, ReturnType<typeof recordingFailure>][] = [
    [
      'a deadline while the call waited for a connection',
      grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded after 1.5s,waiting for metadata filters'),
      'not-recorded',
    ],
    [
      'a deadline while the call waited for an LB pick',
      grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded after 1.5s,name resolution: 0.001s,Waiting for LB pick'),
      'not-recorded',
    ],
    [
      'a deadline on a call that was on the wire',
      grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded after 10.0s,LB pick: 0.001s,remote_addr=127.0.0.1:7233'),
      'unknown',
    ],
    [
      'a connection refused',
      grpcError(status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7233'),
      'not-recorded',
    ],
    ['a connection lost mid-call', grpcError(status.UNAVAILABLE, 'Connection dropped'), 'unknown'],
    ['a cancelled call', grpcError(status.CANCELLED, 'Cancelled on client'), 'unknown'],
    ['a rate limit', grpcError(status.RESOURCE_EXHAUSTED, 'namespace rate limit exceeded'), 'not-recorded'],
    ['an aborted update-with-start', grpcError(status.ABORTED, 'workflow task failed'), 'not-recorded'],
    ['an invalid argument (a bug, not an outage)', grpcError(status.INVALID_ARGUMENT, 'bad search attribute'), null],
    [
      'a refused signal after an update that may have been recorded',
      new MaybeRecorded(grpcError(status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7233')),
      'unknown',
    ],
    ['a bug after an update that may have been recorded', new MaybeRecorded(new Error('boom')), 'unknown'],
    ['a plain error', new Error('boom'), null],
    ['not an error at all', 'boom', null],
  ];
  for (const [what, err, expected] of rows) {
    test(`${what}: ${String(expected)}`, () => assert.equal(recordingFailure(err), expected));
  }
});

describe('nothingSent: which failed attempts the client may resend without asking', () => {
  test('a connection never established and a refusal are resent', () => {
    assert.equal(
      nothingSent({ code: status.UNAVAILABLE, details: 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7233' }),
      true,
    );
    assert.equal(nothingSent({ code: status.RESOURCE_EXHAUSTED, details: 'namespace rate limit exceeded' }), true);
  });
  test('a connection lost mid-call is not: the first attempt may have been recorded', () => {
    assert.equal(nothingSent({ code: status.UNAVAILABLE, details: 'Connection dropped' }), false);
    assert.equal(nothingSent({ code: status.UNAVAILABLE, details: 'read ECONNRESET' }), false);
  });
});
