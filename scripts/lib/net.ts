/** Network helpers for scripts and tests that must name a port before something listens on it. */
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** `count` distinct ports, each free when taken: for processes that each need their own (e.g. a metrics endpoint). */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}
