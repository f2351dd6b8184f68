/**
 * The lint rules that guard the workflow sandbox and unawaited promises really fire: runs ESLint
 * (`new ESLint({ cwd })` + `lintText`) with the repo's eslint.config.mjs over small snippets placed
 * virtually under workflows/, activities/ and api/.
 *
 * ESLint loads eslint.config.mjs with a native dynamic import(), which Jest's module sandbox does
 * not allow without --experimental-vm-modules; so the ESLint API runs in a plain child Node
 * process, once for all cases, and hands the messages back as JSON. The rules and their `files`
 * globs are the real config's; only the type-aware parser is told to accept the in-memory files.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const REPO_ROOT = path.resolve(__dirname, '..');
const WORKFLOW_FILE = 'workflows/orders/bad.ts';
const RESTRICTED = '@typescript-eslint/no-restricted-imports';
const FLOATING = '@typescript-eslint/no-floating-promises';

interface LintCase {
  name: string;
  code: string;
  filePath: string;
}
type Messages = { ruleId: string | null; message: string }[];

const CASES: LintCase[] = [
  { name: 'node-builtin', filePath: WORKFLOW_FILE, code: `import fs from 'node:fs';\nexport const x = fs.existsSync('.');\n` },
  {
    name: 'bare-builtin-and-sdk',
    filePath: WORKFLOW_FILE,
    code: `import path from 'path';\nimport { Client } from '@temporalio/client';\nimport { Context } from '@temporalio/activity';\nexport const x = [path, Client, Context];\n`,
  },
  {
    name: 'workflow-sdk',
    filePath: WORKFLOW_FILE,
    code: `import { sleep } from '@temporalio/workflow';\nexport async function wf(): Promise<void> {\n  await sleep(1);\n}\n`,
  },
  {
    name: 'activity-value-import',
    filePath: WORKFLOW_FILE,
    code: `import { createOrderActivities } from '../../activities/orders';\nexport const x = createOrderActivities;\n`,
  },
  {
    name: 'activity-type-import',
    filePath: WORKFLOW_FILE,
    code: `import type { OrderActivities } from '../../activities/orders';\nexport type X = OrderActivities;\n`,
  },
  { name: 'builtin-outside-workflows', filePath: 'activities/orders/ok.ts', code: `import fs from 'node:fs';\nexport const x = fs.existsSync('.');\n` },
  {
    name: 'long-workflow-function',
    filePath: WORKFLOW_FILE,
    code: `export function wf(): number {\n  let n = 0;\n${'  n += 1;\n'.repeat(121)}  return n;\n}\n`,
  },
  {
    name: 'api-imports-activities',
    filePath: 'api/orders/bad.ts',
    code: `import { createOrderActivities } from '../../activities/orders';\nexport const x = createOrderActivities;\n`,
  },
  {
    name: 'api-imports-store',
    filePath: 'api/orders/ok.ts',
    code: `import { getCustomerOrder } from '../../store/orders/orders';\nexport const x = getCustomerOrder;\n`,
  },
  {
    name: 'floating-promise',
    filePath: 'activities/orders/floating.ts',
    code: `async function work(): Promise<number> {\n  return 1;\n}\nexport function run(): void {\n  work();\n}\n`,
  },
  {
    name: 'floating-promise-in-workflow',
    filePath: WORKFLOW_FILE,
    code: `import { sleep } from '@temporalio/workflow';\nexport function wf(): void {\n  sleep(1);\n}\n`,
  },
];

/** Runs in a child process: lints every case with the repo's config and prints the messages. */
const RUNNER = `
const path = require('node:path');
const { ESLint } = require('eslint');
(async () => {
  const cases = JSON.parse(process.argv[1]);
  // The snippets exist only in memory, so tsconfig.json's file list does not hold them: let the
  // project service type-check them with tsconfig.json's options as a default project.
  const eslint = new ESLint({
    cwd: process.cwd(),
    overrideConfig: {
      files: ['**/*.ts'],
      languageOptions: {
        parserOptions: {
          projectService: { allowDefaultProject: [...new Set(cases.map((c) => c.filePath))], defaultProject: 'tsconfig.json' },
        },
      },
    },
  });
  const out = {};
  for (const c of cases) {
    const [result] = await eslint.lintText(c.code, { filePath: path.join(process.cwd(), c.filePath) });
    out[c.name] = result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message }));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => {
  process.stderr.write(String(err && err.stack || err));
  process.exit(1);
});
`;

describe('lint rules (eslint.config.mjs)', () => {
  let results: Record<string, Messages>;
  const rules = (name: string, ruleId: string) => results[name].filter((m) => m.ruleId === ruleId);

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', RUNNER, JSON.stringify(CASES)], {
      cwd: REPO_ROOT,
      maxBuffer: 10 * 1024 * 1024,
    });
    results = JSON.parse(stdout) as Record<string, Messages>;
  }, 120_000);

  it('reports a Node builtin (node:fs) imported by workflow code', () => {
    expect(rules('node-builtin', RESTRICTED)).toHaveLength(1);
    expect(rules('node-builtin', RESTRICTED)[0].message).toMatch(/Temporal sandbox/);
  });

  it('reports bare builtins and non-workflow Temporal packages in workflow code', () => {
    expect(rules('bare-builtin-and-sdk', RESTRICTED)).toHaveLength(3);
  });

  it('allows @temporalio/workflow in workflow code', () => {
    expect(results['workflow-sdk']).toEqual([]);
  });

  it('reports a value import from activities in workflow code', () => {
    expect(rules('activity-value-import', RESTRICTED)).toHaveLength(1);
    expect(rules('activity-value-import', RESTRICTED)[0].message).toMatch(/contract/);
  });

  it('reports even an `import type` from activities in workflow code: activity types come from contracts', () => {
    expect(rules('activity-type-import', RESTRICTED)).toHaveLength(1);
  });

  it('does not restrict imports outside workflows/', () => {
    expect(rules('builtin-outside-workflows', RESTRICTED)).toEqual([]);
  });

  it('reports a workflow function over 120 lines: long workflows are written as state machines', () => {
    expect(rules('long-workflow-function', 'max-lines-per-function')).toHaveLength(1);
  });

  it('reports an import of activities in API code, and allows the store', () => {
    expect(rules('api-imports-activities', RESTRICTED)).toHaveLength(1);
    expect(rules('api-imports-activities', RESTRICTED)[0].message).toMatch(/store/);
    expect(rules('api-imports-store', RESTRICTED)).toEqual([]);
  });

  it('reports a floating promise (type-aware)', () => {
    expect(rules('floating-promise', FLOATING)).toHaveLength(1);
    expect(rules('floating-promise-in-workflow', FLOATING)).toHaveLength(1);
  });
});
