// `npm run temporal:cli`: make sure the Temporal CLI is there (building it if needed) and say which route worked.
import { resolveTemporalCli } from './temporal-cli';

resolveTemporalCli({ progress: (line) => console.error(line) })
  .then((cli) => {
    console.error(cli ? `Temporal CLI: ${cli.path} (via ${cli.route})` : 'Temporal CLI: none; the SDK download will be used.');
  })
  .catch((err: unknown) => {
    console.error(`Cannot provide the Temporal CLI: ${(err as Error).message}`);
    process.exit(1);
  });
