/**
 * Determinism across the addition of the workflow interceptors: histories recorded by workers
 * whose bundle had no interceptors (the code before tracing) replay without non-determinism
 * against today's bundle, which traces every workflow. Running workflows survive the upgrade.
 */
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config';
import { connectDatabase, type Database } from '../../db/client';
import { createDomainWorker } from '../../workers/create-worker';
import { workflowSinks } from '../../workers/observability';
import { workflowBundleOptions } from '../../workers/workflow-bundle';
import { cancelOrderUpdate } from '../../workflows/orders/contract';
import { startOrder } from '../support/orders';
import { eventually } from '../support/system';
import { connectTestEnv, workflowBundle } from '../support/temporal';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

let env: TestWorkflowEnvironment;
let database: Database;
let dir: string;

beforeAll(async () => {
  env = await connectTestEnv();
  database = connectDatabase(process.env.DATABASE_URL!, { max: 5 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-plain-bundle-'));
});

afterAll(async () => {
  await database?.close();
  await env?.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('workflow interceptors and replay', () => {
  it('replays histories recorded without the interceptors against the bundle with them', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: workflowBundleOptions({ tracing: false }).workflowsPath, logger: quietLogger });
    const plainBundle = path.join(dir, 'plain-bundle.js');
    fs.writeFileSync(plainBundle, code);

    const config = loadConfig({ ...process.env, WMS_URL: 'http://127.0.0.1:9', PSP_URL: 'http://127.0.0.1:9' });
    const workers = await Promise.all(
      (['orders', 'inventory', 'warehouse-integration'] as const).map((domain) =>
        createDomainWorker({
          domain,
          connection: env.nativeConnection,
          namespace: 'default',
          config,
          database,
          client: env.client,
          workflowBundlePath: plainBundle,
        }),
      ),
    );
    const running = Promise.all(workers.map((w) => w.run()));
    let orderId: string;
    try {
      const { input, handle } = await startOrder(env.client, { size: 'PLAIN' });
      orderId = input.orderId;
      await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'replay across bundles' }] });
      await handle.result();
    } finally {
      for (const w of workers) w.shutdown();
      await running;
    }

    // Every workflow of the box: the order, and the subscribers its events started.
    const executions = await eventually(
      async () => {
        const found = [];
        for await (const wf of env.client.workflow.list({ query: `OrderId = "${orderId}"` })) found.push(wf);
        return found.length >= 3 ? found : undefined;
      },
      15_000,
      'the box workflows in visibility',
    );
    const histories = await Promise.all(
      executions.map(async (wf) => ({ workflowId: wf.workflowId, history: await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory() })),
    );
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: workflowBundle(), sinks: workflowSinks() }, histories)) results.push(result);
    expect(results.map((r) => [r.workflowId, r.error?.message])).toEqual(histories.map((h) => [h.workflowId, undefined]));
    expect(executions.map((wf) => wf.type)).toContain('orderWorkflow');
  });
});

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => process.stderr.write(`${m}\n`), log: noop };
