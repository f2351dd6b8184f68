/**
 * Worker logs: every line a JSON object naming its domain; workflow and activity lines carry the
 * workflow id, run id and the box's order id; a workflow's lines are written once, however often
 * its history is replayed (a restarted worker, a replay run).
 */
import { Worker } from '@temporalio/worker';
import { Writable } from 'node:stream';
import { createUnboundLogger } from '../../config/logger';
import { createDomainWorker } from '../../workers/create-worker';
import { installWorkerRuntime, workflowSinks } from '../../workers/observability';
import { cancelOrderUpdate } from '../../workflows/orders/contract';
import { startOrder } from '../support/orders';
import { eventually, startSystem, type RunningSystem } from '../support/system';
import { connectTestEnv, workflowBundle } from '../support/temporal';

interface Line {
  level: number;
  msg: string;
  domain?: string;
  [key: string]: unknown;
}

const lines: Line[] = [];
const raw: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const text of chunk.toString('utf8').split('\n')) {
      if (!text.trim()) continue;
      raw.push(text);
      lines.push(JSON.parse(text) as Line);
    }
    done();
  },
});

let system: RunningSystem;
let orders: { worker: Worker; run: Promise<void> } | undefined;

async function startOrdersWorker(): Promise<void> {
  const worker = await createDomainWorker({
    domain: 'orders',
    connection: system.env.nativeConnection,
    namespace: 'default',
    config: system.config,
    database: system.database,
    client: system.env.client,
    workflowBundlePath: workflowBundle().codePath,
  });
  orders = { worker, run: worker.run() };
}

async function stopOrdersWorker(): Promise<void> {
  if (orders?.worker.getState() === 'RUNNING') orders.worker.shutdown();
  await orders?.run;
  orders = undefined;
}

beforeAll(async () => {
  // Before anything connects: the Runtime (and its logger) is made once per process.
  installWorkerRuntime({ logger: createUnboundLogger('debug', sink), defaultDomain: 'test', level: 'debug' });
  // Inventory and warehouse integration answer the cancel; orders is started (and restarted) below.
  system = await startSystem({ env: await connectTestEnv(), domains: ['inventory', 'warehouse-integration'] });
  await startOrdersWorker();
});

afterAll(async () => {
  await stopOrdersWorker();
  await system?.stop();
  await system?.env.teardown();
});

describe('worker logs', () => {
  it('writes workflow and activity lines as JSON with domain, workflowId, runId and orderId, and a replay adds no workflow line', async () => {
    const { input, handle } = await startOrder(system.client, { size: 'LOGS' });
    await eventually(
      async () => (lines.some((l) => l.eventId === `order:${input.orderId}:placed` && l.sdkComponent === 'workflow') ? true : undefined),
      20_000,
      'order.placed logged',
    );
    // A new orders worker has no cached workflow: the cancel makes it replay the history so far.
    await stopOrdersWorker();
    await startOrdersWorker();
    await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'log test' }] });
    await handle.result();
    const { runId } = await handle.describe();
    const mine = () => lines.filter((l) => l.workflowId === handle.workflowId);

    // Every line of the process is JSON and names its domain.
    expect(raw.length).toBeGreaterThan(0);
    expect(lines.every((l) => typeof l.domain === 'string' && l.domain.length > 0)).toBe(true);

    // A workflow's own line (workflow `log`): the orders domain, its ids, the box's ids.
    const published = mine().filter((l) => l.sdkComponent === 'workflow' && l.msg === 'event published');
    expect(published.map((l) => l.eventId).sort()).toEqual([`order:${input.orderId}:cancelled`, `order:${input.orderId}:placed`]);
    for (const line of published) {
      expect(line).toMatchObject({
        domain: 'orders',
        workflowId: handle.workflowId,
        runId,
        workflowType: 'orderWorkflow',
        orderId: input.orderId,
        customerId: input.customerId,
      });
    }

    // An activity's line (activity `log`), written by the events worker for this workflow.
    const recorded = mine().filter((l) => l.sdkComponent === 'activity' && l.msg === 'event recorded');
    expect(recorded.length).toBeGreaterThanOrEqual(2);
    for (const line of recorded) {
      // The event layer runs as a local activity in the publisher's worker: its lines carry that domain.
      expect(line).toMatchObject({ domain: 'orders', workflowId: handle.workflowId, runId, activityType: 'recordEvent', orderId: input.orderId });
      expect(line.eventId).toMatch(new RegExp(`^order:${input.orderId}:`));
      expect(line).not.toHaveProperty('taskToken');
    }

    // The new worker replayed the placed part, yet each workflow line exists once; replaying the history
    // once more, as ops would to check a fix, writes none.
    const workflowLines = mine().filter((l) => l.sdkComponent === 'workflow');
    const keys = workflowLines.map((l) => `${l.msg}|${String(l.eventId)}`);
    expect(new Set(keys).size).toBe(keys.length);
    const before = workflowLines.length;
    await Worker.runReplayHistory({ workflowBundle: workflowBundle(), sinks: workflowSinks() }, await handle.fetchHistory(), handle.workflowId);
    expect(mine().filter((l) => l.sdkComponent === 'workflow')).toHaveLength(before);
  });
});
