/**
 * Replays a recorded history (`npm run soar -- history <id> --out f.json`, or `temporal workflow show -o json`)
 * against the current workflow code: a non-determinism error means a change would break runs in flight.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Config } from '../config';
import { WORKFLOWS_PATH } from '../worker';
import { historyFromJson } from './history-json';
import { dataConverterFor } from './payload-codec';

export async function replayHistoryFile(
  file: string,
  config: Config,
  progress: (line: string) => void,
  workflowBundle?: WorkflowBundleWithSourceMap,
): Promise<{ workflowId: string; events: number }> {
  progress(`Reading ${file}`);
  const raw = JSON.parse(await readFile(file, 'utf8')) as unknown;
  const history = historyFromJson(raw);
  const events = history.events?.length ?? 0;
  if (events === 0) throw new Error(`${file} holds no history events`);
  const workflowId = path.basename(file).replace(/\.json$/, '');
  progress(workflowBundle ? 'Using the prebuilt workflow bundle' : 'Bundling the workflows (a few seconds)');
  const started = Date.now();
  progress(`Replaying ${events} events`);
  await Worker.runReplayHistory(
    {
      ...(workflowBundle ? { workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
      dataConverter: dataConverterFor(config.temporal.payloadCodec),
    },
    history,
    workflowId,
  );
  progress(`Replayed ${events} events in ${Date.now() - started} ms: the current workflow code reproduces this history`);
  return { workflowId, events };
}
