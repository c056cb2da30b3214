/**
 * `npm start`'s TypeScript loader (src/typescript-loader.mjs): tsx in the main thread only, so the Temporal SDK's
 * workflow threads (plain JavaScript) load no loader and keep Node's source-map support off.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/fixtures';
import { START_NODE_ARGS } from '../helpers/node-args';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

describe('the TypeScript loader of npm start', () => {
  test('package.json starts the product with it, as the end-to-end tests and the bench do', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.start, 'node --import ./src/typescript-loader.mjs src/cli.ts start');
    assert.equal(pkg.scripts.soar, 'node --import ./src/typescript-loader.mjs src/cli.ts');
  });

  test('the main thread loads TypeScript with source maps; a worker thread loads neither', async () => {
    const dir = tempDir('soar-loader-');
    writeFileSync(path.join(dir, 'answer.ts'), 'const answer: number = 42;\nexport default answer;\n');
    // The worker is a file, as the SDK's workflow threads are (Node hands `--import` to it).
    writeFileSync(
      path.join(dir, 'thread.mjs'),
      [
        "import { parentPort } from 'node:worker_threads';",
        "const ts = await import('./answer.ts').then((m) => m.default, (err) => err.code);",
        'parentPort.postMessage({ sourceMaps: process.sourceMapsEnabled, ts });',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'main.ts'),
      [
        "import { Worker } from 'node:worker_threads';",
        "import answer from './answer.ts';",
        "const worker = new Worker(new URL('./thread.mjs', import.meta.url));",
        "worker.once('message', (thread) => { console.log(JSON.stringify({ main: { sourceMaps: process.sourceMapsEnabled, ts: answer }, thread })); });",
      ].join('\n'),
    );
    const { stdout } = await execFileAsync(process.execPath, [...START_NODE_ARGS, path.join(dir, 'main.ts')], { cwd: ROOT });
    assert.deepEqual(JSON.parse(stdout), {
      main: { sourceMaps: true, ts: 42 },
      thread: { sourceMaps: false, ts: 'ERR_UNKNOWN_FILE_EXTENSION' },
    });
  });
});
