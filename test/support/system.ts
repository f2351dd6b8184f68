/**
 * Runs the real domain workers in-process against the shared dev server and PostgreSQL, plus a
 * real WMS simulator, for workflow and flow tests.
 */
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { Registry } from '../../workers/registry';
import { loadConfig, type Config } from '../../config';
import { connectDatabase, type Database } from '../../db/client';
import pino from 'pino';
import { createDomainWorker } from '../../workers/create-worker';
import { createOrderStartRelay } from '../../workers/order-start-relay';
import { DOMAIN_WORKER_NAMES, type DomainWorkerName } from '../../workers/domains';
import { connectTestEnv, workflowBundle } from './temporal';

export interface RunningSystem {
  env: TestWorkflowEnvironment;
  client: Client;
  database: Database;
  config: Config;
  workers: Worker[];
  stop(): Promise<void>;
}

/** Starts every domain worker (or the given ones) with the WMS at `wmsUrl`. */
export async function startSystem(
  opts: {
    wmsUrl?: string;
    pspUrl?: string;
    domains?: DomainWorkerName[];
    env?: TestWorkflowEnvironment;
    registry?: Registry;
    /** Settings beside the environment's (a build id for versioned workers). */
    settings?: Record<string, string>;
    /** Another bundle than the run's (a later build's code). */
    workflowBundlePath?: string;
    /** Run the order-start relay (default: when the orders worker runs; a second build's system needs none). */
    relay?: boolean;
  } = {},
): Promise<RunningSystem> {
  const env = opts.env ?? (await connectTestEnv());
  const config = loadConfig({ ...process.env, WMS_URL: opts.wmsUrl ?? 'http://127.0.0.1:9', PSP_URL: opts.pspUrl ?? 'http://127.0.0.1:9', ...opts.settings });
  const database = connectDatabase(process.env.DATABASE_URL!, { max: 5 });
  const workers = await Promise.all(
    (opts.domains ?? DOMAIN_WORKER_NAMES).map((domain) =>
      createDomainWorker({
        domain,
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        config,
        database,
        client: env.client,
        registry: opts.registry,
        workflowBundlePath: opts.workflowBundlePath ?? workflowBundle().codePath,
      }),
    ),
  );
  const running = workers.map((w) => w.run());
  // As workers/main.ts does: the orders worker starts accepted orders' workflows from the outbox.
  const relay =
    (opts.relay ?? (opts.domains ?? DOMAIN_WORKER_NAMES).includes('orders'))
      ? createOrderStartRelay({ database, client: env.client, log: pino({ level: 'silent' }), pollMs: 200 }).run()
      : undefined;
  return {
    env,
    client: env.client,
    database,
    config,
    workers,
    async stop() {
      await relay?.stop();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await database.close();
      if (!opts.env) await env.teardown();
    },
  };
}

/** A fresh id with a readable prefix; tests share one database, so every test uses its own ids. */
export const uniqueId = (prefix: string): string => `${prefix}_${randomUUID().slice(0, 8)}`;

/**
 * Inserts `count` available items per category, in a size no other test uses unless `size` is
 * given (a member's size, for boxes ordered over the API: one test per size), and returns the size
 * and the item ids.
 */
export async function seedItems(database: Database, categories: string[], count: number, size = uniqueId('T')): Promise<{ size: string; itemIds: string[] }> {
  const rows = categories.flatMap((category) =>
    Array.from({ length: count }, (_, n) => ({
      id: `itm_${size}_${category}_${n}`,
      sku: `${category}-${size}`.toUpperCase(),
      category,
      size,
      colour: 'black',
      purchase_price_cents: 3000,
    })),
  );
  await database.sql`insert into inventory.items ${database.sql(rows, 'id', 'sku', 'category', 'size', 'colour', 'purchase_price_cents')}`;
  return { size, itemIds: rows.map((r) => r.id) };
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Event types of an order's timeline, in publish order. */
export async function timelineTypes(database: Database, orderId: string): Promise<string[]> {
  const rows = await database.sql<{ type: string }[]>`select type from events.event_log where correlation_id = ${orderId} order by seq`;
  return rows.map((r) => r.type);
}
