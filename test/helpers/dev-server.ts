import path from 'node:path';
import type { Config } from '../../src/config';
import { testConfig } from './fixtures';
import { freePort } from './net';

/** The test config's `temporal`, with an embedded dev server of its own: free ports, its SQLite file in `dir`. */
export async function embeddedDevServerConfig(dir: string): Promise<Config['temporal']> {
  const { temporal } = testConfig();
  return {
    ...temporal,
    address: `127.0.0.1:${await freePort()}`,
    devServer: { ...temporal.devServer, enabled: true, dbFile: path.join(dir, 'temporal.db'), uiPort: await freePort(), logLevel: 'warn' },
  };
}
