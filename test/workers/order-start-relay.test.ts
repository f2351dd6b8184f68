/**
 * The order outbox (store/orders/workflow-starts.ts) and its relay (workers/order-start-relay.ts) against the real PostgreSQL and the dev server: acceptOrder writes the order
 * and its start request in one statement; the relay starts each order's workflow from it exactly
 * once, whatever happens in between (repeated sweeps, a finished workflow, Temporal unreachable).
 */
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { connectDatabase, type Database } from '../../db/client';
import { ORDER_STARTS_CHANNEL, acceptOrder, createOrderStartWaker, orderStartBacklog } from '../../store/orders/workflow-starts';
import { createOrderStartRelay } from '../../workers/order-start-relay';
import { OrderWorkflow, orderWorkflowId, orderWorkflowStartSpec, type OrderWorkflowInput } from '../../workflows/orders/contract';
import { startWorkflowOnce } from '../../workflows/workflow-ref';
import { OrderIdAttribute } from '../../workflows/search-attributes';
import { signupBody } from '../api/harness';
import { connectTestEnv } from '../support/temporal';

let database: Database;
let env: TestWorkflowEnvironment;
const started: string[] = [];
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  database = connectDatabase(process.env.DATABASE_URL!, { max: 5 });
  env = await connectTestEnv();
});
afterAll(async () => {
  // No orders worker runs here: leave nothing on the orders task queue for a later test's worker.
  for (const id of started)
    await env.client.workflow
      .getHandle(id)
      .terminate('test cleanup')
      .catch(() => undefined);
  await database?.close();
  await env?.teardown();
});

let n = 0;
function newOrder(): OrderWorkflowInput {
  n += 1;
  const orderId = `o_outbox${Date.now().toString(36)}${process.pid}${n}`;
  started.push(orderWorkflowId(orderId));
  return { orderId, customerId: `c_outbox${n}`, size: 'M', categories: ['dress'], itemCount: 2, address: signupBody().address };
}

async function startRow(orderId: string) {
  // The pool's driver hands timestamps over as text (drizzle parses them itself).
  const [row] = await database.sql<{ started_at: string | null; attempts: number; last_error: string | null; claimed_until: string | null }[]>`
    select started_at, attempts, last_error, claimed_until from orders.workflow_starts where order_id = ${orderId}`;
  const date = (v: string | null) => (v === null ? null : new Date(v));
  return row && { ...row, started_at: date(row.started_at), claimed_until: date(row.claimed_until) };
}

async function runsOf(orderId: string): Promise<number> {
  const { executions } = await env.client.workflowService.listWorkflowExecutions({ namespace: 'default', query: `WorkflowId = '${orderWorkflowId(orderId)}'` });
  return executions?.length ?? 0;
}

describe('accepting an order', () => {
  it('writes the order row and a pending start in one go, and a keyed retry neither duplicates nor moves the order back', async () => {
    const order = newOrder();
    expect(await acceptOrder(database.db, order)).toEqual({ claimed: true, created: true });
    const [row] = await database.sql`select status, item_count from orders.orders where id = ${order.orderId}`;
    expect(row).toEqual({ status: 'placed', item_count: 2 });
    expect((await startRow(order.orderId))?.started_at).toBeNull();
    expect((await orderStartBacklog(database.db)).pending).toBeGreaterThanOrEqual(1);

    await database.sql`update orders.orders set status = 'styled' where id = ${order.orderId}`;
    expect(await acceptOrder(database.db, order)).toEqual({ claimed: true, created: false });
    const [after] = await database.sql`select status from orders.orders where id = ${order.orderId}`;
    expect(after?.status).toBe('styled');
    expect((await database.sql`select 1 from orders.workflow_starts where order_id = ${order.orderId}`).length).toBe(1);
  });
});

describe('the order start relay', () => {
  it('starts an accepted order once, even when the row is swept again', async () => {
    const order = newOrder();
    await acceptOrder(database.db, order);
    const relay = createOrderStartRelay({ database, client: env.client, log: silent });
    expect(await relay.sweep()).toBeGreaterThanOrEqual(1);

    const row = await startRow(order.orderId);
    expect(row?.started_at).toBeInstanceOf(Date);
    const description = await env.client.workflow.getHandle(orderWorkflowId(order.orderId)).describe();
    expect(description.type).toBe('orderWorkflow');
    expect(description.typedSearchAttributes.get(OrderIdAttribute)).toBe(order.orderId);

    // As if the relay died after starting but before recording it: the next sweep starts it "again".
    await database.sql`update orders.workflow_starts set started_at = null, claimed_until = null where order_id = ${order.orderId}`;
    await relay.sweep();
    expect((await startRow(order.orderId))?.started_at).toBeInstanceOf(Date);
    await startWorkflowOnce(env.client.workflow, OrderWorkflow, order, orderWorkflowStartSpec(order));
    expect(await runsOf(order.orderId)).toBe(1);
  });

  it("never starts a finished order's workflow again", async () => {
    const order = newOrder();
    await acceptOrder(database.db, order);
    await createOrderStartRelay({ database, client: env.client, log: silent }).sweep();
    const handle = env.client.workflow.getHandle(orderWorkflowId(order.orderId));
    const { runId } = await handle.describe();
    await handle.terminate('finished before the relay recorded its start');

    await database.sql`update orders.workflow_starts set started_at = null, claimed_until = null where order_id = ${order.orderId}`;
    await createOrderStartRelay({ database, client: env.client, log: silent }).sweep();
    const after = await handle.describe();
    expect(after.runId).toBe(runId);
    expect(after.status.name).toBe('TERMINATED');
    expect((await startRow(order.orderId))?.started_at).toBeInstanceOf(Date);
  });

  it('backs off while Temporal is unreachable and starts the order once it answers', async () => {
    const order = newOrder();
    // Claimed by nobody: only the relays below take it.
    await acceptOrder(database.db, order);
    const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const down = createOrderStartRelay({ database, client: unreachable, log: silent, startTimeoutMs: 300 });
    await down.sweep();
    const failed = await startRow(order.orderId);
    expect(failed?.started_at).toBeNull();
    expect(failed?.last_error).toBeTruthy();
    // Backed off: not claimable for at least a second.
    expect(failed!.claimed_until!.getTime()).toBeGreaterThan(Date.now() + 500);
    await unreachable.connection.close();

    await database.sql`update orders.workflow_starts set claimed_until = now() where order_id = ${order.orderId}`;
    await createOrderStartRelay({ database, client: env.client, log: silent }).sweep();
    const row = await startRow(order.orderId);
    expect(row?.started_at).toBeInstanceOf(Date);
    expect(row?.last_error).toBeNull();
    expect(await runsOf(order.orderId)).toBe(1);
  });

  it('is woken by the API after an order is accepted', async () => {
    const relay = createOrderStartRelay({ database, client: env.client, log: silent, pollMs: 60_000 });
    const running = relay.run();
    try {
      // Let its first sweep (of anything older) finish, so only the notification can wake it.
      await new Promise((r) => setTimeout(r, 500));
      const order = newOrder();
      await acceptOrder(database.db, order);
      createOrderStartWaker(database.db, silent)();
      const deadline = Date.now() + 10_000;
      while (!(await startRow(order.orderId))?.started_at && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect((await startRow(order.orderId))?.started_at).toBeInstanceOf(Date);
    } finally {
      await running.stop();
    }
  });

  it('folds the wakes that arrive while one NOTIFY is in flight into one more', async () => {
    let received = 0;
    const listener = await database.sql.listen(ORDER_STARTS_CHANNEL, () => received++);
    try {
      const wake = createOrderStartWaker(database.db, silent);
      for (let i = 0; i < 20; i++) wake();
      const deadline = Date.now() + 5_000;
      while (received < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      expect(received).toBe(2);
    } finally {
      await listener.unlisten();
    }
  });

  it('prunes started rows older than the retention, never a pending one', async () => {
    const [old, recent, pending] = [newOrder(), newOrder(), newOrder()];
    for (const o of [old, recent, pending]) await acceptOrder(database.db, o);
    await database.sql`update orders.workflow_starts set started_at = now() - interval '49 hours' where order_id = ${old.orderId}`;
    await database.sql`update orders.workflow_starts set started_at = now() - interval '47 hours' where order_id = ${recent.orderId}`;
    await database.sql`update orders.workflow_starts set accepted_at = now() - interval '90 days' where order_id = ${pending.orderId}`;
    const relay = createOrderStartRelay({ database, client: env.client, log: silent, keepStartedHours: 48 });
    expect(await relay.prune()).toBeGreaterThanOrEqual(1);
    expect(await startRow(old.orderId)).toBeUndefined();
    expect(await startRow(recent.orderId)).toBeDefined();
    expect((await startRow(pending.orderId))?.started_at).toBeNull();
    // The pending one is someone's order still waiting to start: leave it for the sweep.
    await database.sql`delete from orders.workflow_starts where order_id in ${database.sql([recent.orderId, pending.orderId])}`;
  });
});
