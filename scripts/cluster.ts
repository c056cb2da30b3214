/**
 * `npm run cluster -- up|down|status [--dir .data/cluster] [--base-port 17233]`: a real Temporal cluster on this
 * machine (Temporal server v1.29.1 on PostgreSQL, 8 history shards), for trying the production shape. See
 * docs/operations/cluster.md. `up` returns once the frontend serves; the server and PostgreSQL keep running until `down`.
 */
import { parseArgs } from 'node:util';
import { clusterPorts, runningClusterPid, startCluster, stopClusterIn } from './lib/cluster';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: '.data/cluster' },
      'base-port': { type: 'string', default: '17233' },
      shards: { type: 'string', default: '8' },
    },
  });
  const basePort = Number(values['base-port']);
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort > 32_750)
    throw new Error('--base-port is a port from 1024 to 32750 (the server keeps membership ports in a smallint)');
  const shards = Number(values.shards);
  if (!Number.isInteger(shards) || shards < 1 || shards > 4096) throw new Error('--shards is a whole number from 1 to 4096');
  const progress = (line: string) => console.error(line);
  switch (positionals[0]) {
    case 'up': {
      const cluster = await startCluster({ dir: values.dir, basePort, historyShards: shards, progress });
      console.log(
        [
          `Temporal cluster up: frontend ${cluster.address} (pid ${cluster.serverPid}), PostgreSQL 127.0.0.1:${cluster.ports.postgres}`,
          `  data and logs in ${cluster.dir}`,
          `  next: point temporal.address at ${cluster.address}, set temporal.devServer.enabled: false, then`,
          '        npm run soar -- setup --create-namespace --generate-key',
          '  stop: npm run cluster -- down',
        ].join('\n'),
      );
      return 0;
    }
    case 'down':
      await stopClusterIn(values.dir, progress);
      console.log('Temporal cluster down');
      return 0;
    case 'status': {
      const running = runningClusterPid(values.dir);
      console.log(
        running
          ? `running: Temporal server pid ${running.pid}, frontend 127.0.0.1:${clusterPorts(running.basePort).frontend}`
          : 'not running',
      );
      return running ? 0 : 3;
    }
    default:
      console.error('Usage: npm run cluster -- up|down|status [--dir .data/cluster] [--base-port 17233] [--shards 8]');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`cluster: ${(err as Error).message}`);
    process.exit(1);
  },
);
