/** Network helpers for scripts and tests that must name a port before something listens on it. */
import { createServer } from 'node:net';

/**
 * Ports named ahead of use are drawn from below the kernel's ephemeral range (32768-60999 on Linux). Every bind to port
 * 0 and every outgoing connection's local port comes from that range, so a port found free there can be taken by any
 * process (a dev server picking its internal ports, a client connecting) before it is bound: seen in CI as
 * EADDRINUSE on an app's HTTP port after a dev server restart.
 */
const LOWEST = 20_000;
const HIGHEST = 32_767;
/** Ports this process has handed out: not handed out twice. */
const given = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound and released), outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    if (given.has(port)) continue;
    if (await canBind(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${LOWEST} and ${HIGHEST}`);
}

/** `count` distinct ports, each free when taken: for processes that each need their own (e.g. a metrics endpoint). */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) ports.push(await freePort());
  return ports;
}
