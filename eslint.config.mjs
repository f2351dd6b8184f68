// ESLint 9 flat config. Kept modest on purpose: typescript-eslint's recommended rules, one
// type-aware rule everywhere (no floating promises), and the workflow sandbox's import rules.
import tseslint from 'typescript-eslint';

/** Node builtins: workflow code runs in Temporal's deterministic sandbox and may not use them. */
const NODE_BUILTINS = [
  'assert',
  'async_hooks',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'inspector',
  'module',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'tty',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

/** Temporal packages that belong to clients, workers and activities, never to workflow code. */
const NON_WORKFLOW_TEMPORAL = ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'];

export default tseslint.config(
  {
    ignores: ['dist/**', '.data/**', 'node_modules/**', 'coverage/**'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // `_`-prefixed names are deliberate placeholders.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Plain JS config files (jest.config.js, this file) are CommonJS/ESM scripts outside tsconfig.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Tests poke at untyped JSON (HTTP bodies, raw rows): `any` there is a warning, not an error.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    // Workflow code is bundled into Temporal's deterministic sandbox: no I/O, no Node builtins, no
    // client/worker/activity SDKs (types only), and no activities/ at all (their types are in contracts).
    files: ['workflows/**/*.ts'],
    rules: {
      // A workflow longer than this is a state machine waiting to be written (workflows/bus/handlers.ts).
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true, IIFEs: true }],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...NODE_BUILTINS.map((name) => ({ name, message: 'Workflow code runs in the Temporal sandbox: Node builtins are not allowed.' })),
            ...NON_WORKFLOW_TEMPORAL.map((name) => ({
              name,
              // Types are erased from the bundle (workflows/workflow-ref.ts types its Node-side start helpers).
              allowTypeImports: true,
              message: 'Workflow code may import only @temporalio/workflow and @temporalio/common (other SDK packages as types only).',
            })),
          ],
          patterns: [
            { group: ['node:*'], message: 'Workflow code runs in the Temporal sandbox: Node builtins are not allowed.' },
            ...NON_WORKFLOW_TEMPORAL.map((name) => ({
              group: [`${name}/*`],
              message: 'Workflow code may import only @temporalio/workflow and @temporalio/common.',
            })),
            {
              // Not even types: a domain's activity interfaces are part of its contract
              // (workflows/<domain>/contract.ts), which the implementations in activities/ satisfy.
              group: ['**/activities', '**/activities/**'],
              message: 'Workflows take activity types from contracts (workflows/<domain>/contract.ts), never from activities/.',
            },
          ],
        },
      ],
    },
  },
  {
    // The API reads and writes through the store (store/<domain>/) and starts workflows by
    // reference: activities are the workers' own, and api/ never imports them.
    files: ['api/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/activities', '**/activities/**'],
              message: 'The API uses the store (store/<domain>/) and contracts, never activities/.',
            },
          ],
        },
      ],
    },
  },
);
