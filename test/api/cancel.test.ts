/**
 * Cancelling through the API with real orders and events workers: the update runs the workflow's
 * validator, the cancellation is published, and the read model follows.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import request from 'supertest';
import { createDomainWorker } from '../../workers/create-worker';
import { eventSignal, type EventEnvelope } from '../../workflows/bus/contract';
import { orderWorkflowId } from '../../workflows/orders/contract';
import { signUp, signupBody, startApi, terminateOrderWorkflows, type ApiHarness } from './harness';

let api: ApiHarness;
let workers: Worker[];
let running: Promise<unknown>;
const placed: string[] = [];

beforeAll(async () => {
  api = await startApi();
  const deps = { connection: api.env.nativeConnection, namespace: 'default', config: api.config, database: api.database, client: api.env.client };
  workers = await Promise.all(
    // Warehouse integration answers the cancel (no instruction was sent: shipment.cancelled at once);
    // inventory leaves its tombstone.
    (['orders', 'warehouse-integration', 'inventory'] as const).map((domain) =>
      createDomainWorker({ ...deps, domain, workflowBundlePath: process.env.CLOSETFLOW_WORKFLOW_BUNDLE }),
    ),
  );
  running = Promise.all(workers.map((w) => w.run()));
});

afterAll(async () => {
  await terminateOrderWorkflows(api, placed);
  for (const w of workers ?? []) if (w.getState() === 'RUNNING') w.shutdown();
  await running?.catch(() => undefined);
  await api?.close();
});

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs}ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function placeOrder() {
  const member = await signUp(api.app);
  const res = await request(api.app).post('/v1/orders').set(member.auth).send({ itemCount: 2 }).expect(202);
  const orderId: string = res.body.orderId;
  placed.push(orderWorkflowId(orderId));
  // Wait until the workflow has published order.placed: it is running and past its first step.
  await eventually(
    () => request(api.app).get(`/v1/orders/${orderId}/timeline`).set(member.auth),
    (r) => r.body.events?.some((e: { type: string }) => e.type === 'order.placed'),
  );
  return { member, orderId };
}

describe('POST /v1/orders/:orderId/cancel', () => {
  test('cancels a placed order: 200 cancelled, the read model and the timeline follow, and repeating it is idempotent', async () => {
    const { member, orderId } = await placeOrder();

    const res = await request(api.app).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({ reason: 'changed my mind' }).expect(200);
    expect(res.body).toEqual({ orderId, status: 'cancelled' });

    const detail = await eventually(
      () => request(api.app).get(`/v1/orders/${orderId}`).set(member.auth),
      (r) => r.body.status === 'cancelled',
    );
    expect(detail.body.statusReason).toBe('changed my mind');
    const timeline = await request(api.app).get(`/v1/orders/${orderId}/timeline`).set(member.auth).expect(200);
    const cancelled = timeline.body.events.find((e: { type: string }) => e.type === 'order.cancelled');
    expect(cancelled).toMatchObject({ data: { orderId, reason: 'changed my mind', cancelledBy: 'customer' }, causationId: `order:${orderId}:placed` });
    const confirmed = timeline.body.events.find((e: { type: string }) => e.type === 'shipment.cancelled');
    expect(confirmed).toMatchObject({ data: { orderId, reason: 'changed my mind', instructionCancelled: false }, causationId: cancelled.id });

    // The workflow has finished. A retried cancel (same update id) gets the first answer again,
    // so a client that lost the response can safely repeat the request.
    await eventually(
      () => api.env.client.workflow.getHandle(orderWorkflowId(orderId)).describe(),
      (d) => d.status.name === 'COMPLETED',
    );
    await request(api.app).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({}).expect(200, { orderId, status: 'cancelled' });
    const cancelledEvents = (await request(api.app).get(`/v1/orders/${orderId}/timeline`).set(member.auth)).body.events.filter(
      (e: { type: string }) => e.type === 'order.cancelled',
    );
    expect(cancelledEvents).toHaveLength(1);
  });

  test('cancels an order accepted but not started yet (the relay holding it died): the cancel starts its workflow first', async () => {
    const member = await signUp(api.app);
    const orderId = `o_held${Date.now().toString(36)}${process.pid}`;
    const input = { orderId, customerId: member.customerId, size: 'M', categories: ['dress'], itemCount: 2, address: signupBody().address };
    placed.push(orderWorkflowId(orderId));
    // As POST /v1/orders leaves it, but claimed for an hour by a relay that is gone.
    await api.database.sql`
      with o as (
        insert into orders.orders (id, customer_id, status, size, categories, item_count, address)
        values (${orderId}, ${member.customerId}, 'placed', 'M', '["dress"]'::jsonb, 2, ${JSON.stringify(input.address)}::jsonb) returning id)
      insert into orders.workflow_starts (order_id, input, claimed_until) select id, ${JSON.stringify(input)}::jsonb, now() + interval '1 hour' from o`;
    await expect(api.env.client.workflow.getHandle(orderWorkflowId(orderId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

    const res = await request(api.app).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({ reason: 'took too long' }).expect(200);
    expect(res.body).toEqual({ orderId, status: 'cancelled' });
    const [row] = await api.database.sql<
      { started: boolean }[]
    >`select started_at is not null as started from orders.workflow_starts where order_id = ${orderId}`;
    expect(row?.started).toBe(true);
  });

  test('is 409 order-not-cancellable when the order workflow has already closed', async () => {
    const { member, orderId } = await placeOrder();
    await api.env.client.workflow.getHandle(orderWorkflowId(orderId)).terminate('closed for the test');
    const res = await request(api.app).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({ reason: 'too late' }).expect(409);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/order-not-cancellable', status: 409 });
  });

  test("is refused with 409 by the workflow's validator once the box has shipped, and the order is untouched", async () => {
    const { member, orderId } = await placeOrder();
    const handle = api.env.client.workflow.getHandle(orderWorkflowId(orderId));
    // The warehouse's event, delivered the way the bus delivers it.
    const shipped: EventEnvelope = {
      id: `shipment:${orderId}:shipped`,
      type: 'shipment.shipped',
      occurredAt: new Date().toISOString(),
      correlationId: orderId,
      causationId: null,
      source: { domain: 'warehouse', workflowId: `shipment:${orderId}`, runId: 'test' },
      data: { orderId, customerId: member.customerId, trackingNumber: 'TRK1', shippedAt: new Date().toISOString() },
    };
    await handle.signal(eventSignal, shipped);
    await eventually(
      () => request(api.app).get(`/v1/orders/${orderId}`).set(member.auth),
      (r) => r.body.status === 'shipped',
    );

    const res = await request(api.app).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({}).expect(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/order-not-cancellable', status: 409, detail: expect.stringContaining('shipped') });

    const detail = await request(api.app).get(`/v1/orders/${orderId}`).set(member.auth).expect(200);
    expect(detail.body.status).toBe('shipped');
    const description = await handle.describe();
    expect(description.status.name).toBe('RUNNING');
    const history = await handle.fetchHistory();
    // The validator refused it before it was accepted: the refusal left no trace in history.
    expect(history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toBe(false);
  });
});
