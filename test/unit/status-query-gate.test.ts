/**
 * The read API's bound on case index queries (src/http/status-query-gate.ts), with a stand-in connection: a query
 * that fails for another reason than its deadline keeps its error and frees its place; the bound counts running
 * queries only. The deadline and the bound against a real dev server: test/workflows/alert-routing.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Client } from '@temporalio/client';
import { HttpError } from '../../src/http/errors';
import { StatusQueryGate } from '../../src/http/status-query-gate';

/** A client whose connection runs the call as given (no deadline is ever reached). */
const client = { connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() } } as unknown as Client;

test('a query that fails for another reason keeps its error, and its place is free again', async () => {
  const shed: string[] = [];
  const gate = new StatusQueryGate(client, { maxQueries: 1, timeoutMs: 1_000, onShed: (reason) => shed.push(reason) });
  const refused = new Error('query handler failed');
  await assert.rejects(
    gate.admit(() => Promise.reject(refused)),
    (err) => err === refused,
  );
  assert.equal(gate.inFlight, 0);
  assert.equal(await gate.admit(() => Promise.resolve('routed')), 'routed');
  assert.deepEqual(shed, []);
});

test('the bound counts the queries running now: one more is refused 503 with Retry-After, then admitted once one ends', async () => {
  const shed: string[] = [];
  const gate = new StatusQueryGate(client, { maxQueries: 2, timeoutMs: 1_000, onShed: (reason) => shed.push(reason) });
  const release: Array<() => void> = [];
  const held = [0, 1].map(() => gate.admit(() => new Promise<string>((resolve) => release.push(() => resolve('routed')))));
  assert.equal(gate.inFlight, 2);
  await assert.rejects(
    gate.admit(() => Promise.resolve('never asked')),
    (err) => err instanceof HttpError && err.statusCode === 503 && err.headers['retry-after'] === '1',
  );
  assert.deepEqual(shed, ['busy']);
  release[0]?.();
  assert.equal(await held[0], 'routed');
  assert.equal(await gate.admit(() => Promise.resolve('admitted')), 'admitted');
  release[1]?.();
  await held[1];
  assert.equal(gate.inFlight, 0);
});
