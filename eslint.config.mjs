// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * What connectors may not import: the layers above them. Import paths are matched as written, so the patterns are
 * spelled per folder depth (`../http` from a vendor folder is the connectors' own http.ts; from src/connectors it
 * is src/http). `up` leads from the connector file to src/.
 */
function connectorFence(up) {
  const src = ['config', 'containment', 'audit', 'http', 'ingest', 'wiring'];
  const root = ['workflows', 'activities'];
  return [
    ...src.flatMap((dir) => [`${up}${dir}`, `${up}${dir}/**`]),
    ...root.flatMap((dir) => [`${up}../${dir}`, `${up}../${dir}/**`]),
    // Whatever the depth: no path that names these layers from src/ down.
    '**/src/config', '**/src/wiring', '**/sources-config', '**/src/containment/**', '**/src/audit/**', '**/src/http/**', '**/src/ingest/**',
    '**/workflows', '**/workflows/**', '**/activities', '**/activities/**',
  ];
}
const CONNECTOR_FENCE_MESSAGE =
  'Connectors talk to one vendor each: they import contracts, their shared plumbing and pure helpers, never configuration, workflows, activities, containment, audit, http, ingest or the wiring (src/wiring.ts picks and builds them).';

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'test-output/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // npm start's loader is plain JavaScript, outside the TypeScript project: linted without type information.
    files: ['src/typescript-loader.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Workflow code is replayed: it must stay deterministic and free of I/O.
    files: ['workflows/**/*.ts', 'scripts/bench/bare-workflow.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Node built-ins are not deterministic: use an activity.' },
            { group: ['fs', 'path', 'crypto', 'os', 'http', 'https', 'net', 'child_process', 'timers'], message: 'Node built-ins are not deterministic: use an activity.' },
            { group: ['axios', '@slack/*', 'pino', 'yaml'], message: 'I/O belongs in activities.' },
            { group: ['**/src/connectors/**', '**/activities/**', '!**/activities'], message: 'Connectors and activities are not workflow code.' },
            { group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'], message: 'Workflows may only use @temporalio/workflow and @temporalio/common.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use durable timers.' },
        { name: 'fetch', message: 'I/O belongs in activities.' },
        { name: 'process', message: 'Workflows must not read the environment.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Non-deterministic: the workflow sandbox seeds it, but prefer uuid4() from @temporalio/workflow.' },
      ],
    },
  },
  {
    // Connectors sit below everything that uses them: the wiring builds them from the configuration.
    files: ['src/connectors/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: connectorFence('../'), message: CONNECTOR_FENCE_MESSAGE }] }] },
  },
  {
    files: ['src/connectors/*/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: connectorFence('../../'), message: CONNECTOR_FENCE_MESSAGE }] }] },
  },
  {
    files: ['src/cli.ts', 'scripts/**/*.ts', 'src/temporal/ensure-cli.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'it', 'describe', 'suite'], package: 'node:test' }] }],
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
