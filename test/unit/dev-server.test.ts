/** Whose port is it: the check that tells the dev server the app started from another server on the same port. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { listensOn } from '../../src/temporal/dev-server';
import { freePort } from '../helpers/net';

describe('listensOn', () => {
  test('says whether a process holds the listening socket of a port', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      assert.equal(listensOn(process.pid, port), true, 'this process listens there');
      assert.equal(listensOn(process.ppid, port), false, 'its parent does not');
      assert.equal(listensOn(process.pid, await freePort()), false, 'nobody listens on a free port');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
