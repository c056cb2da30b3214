/**
 * How `npm start` loads the TypeScript sources: tsx, in the main thread only (`node --import ./src/typescript-loader.mjs`).
 *
 * Node hands `--import` to every thread it starts, the Temporal SDK's workflow threads included. Those threads run
 * the workflow bundle, which is JavaScript built at start-up, and the SDK's own JavaScript: they need no TypeScript
 * loader. With `--import tsx` each of them loaded one anyway, and tsx turns on Node's source-map support in its thread.
 * The SDK records a stack trace for every promise a workflow creates (its promise hook compiles two small functions
 * per promise), and with source-map support on each of those compilations costs about twice as much (docs/performance.md).
 * Workflow stack traces lose nothing: the SDK maps them through the bundle's own source map.
 */
import { isMainThread } from 'node:worker_threads';

if (isMainThread) await import('tsx');
