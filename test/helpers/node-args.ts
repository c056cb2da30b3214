import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The loader `npm start` runs the product with (package.json): tsx in the main thread only (src/typescript-loader.mjs). */
const TYPESCRIPT_LOADER = path.resolve(__dirname, '../../src/typescript-loader.mjs');

/** The node arguments before the entry point, as `npm start` passes them. */
export const START_NODE_ARGS = ['--import', pathToFileURL(TYPESCRIPT_LOADER).href];
