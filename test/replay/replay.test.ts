/**
 * Checked-in histories of earlier runs must replay against today's workflow code: a change that would break runs in
 * flight fails here (use patched() for such changes). Histories are recorded with `npm run record:histories`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { testDataConverter, workflowBundle } from '../helpers/temporal';

const DIR = path.join(__dirname, 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('replay of checked-in histories', () => {
  test('there are histories to replay', () => {
    assert.ok(files.length >= 3, `expected at least 3 histories in ${DIR}, found ${files.length}`);
  });

  for (const file of files) {
    test(`${file} replays without non-determinism`, async () => {
      const history: unknown = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
      await Worker.runReplayHistory(
        // Recorded with payload encryption on (the test key); unencrypted histories decode unchanged.
        { workflowBundle: await workflowBundle(), dataConverter: testDataConverter },
        history,
        file,
      );
    });
  }
});
