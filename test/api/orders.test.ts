/**
 * Orders routes against the real database and Temporal server. No orders worker runs here: a
 * started orderWorkflow simply waits on its task queue, which is all these routes need.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import request from 'supertest';
import { upsertOrder } from '../../store/orders/orders';
import { eventLog } from '../../db/schema/events';
import { orderWorkflowId, type OrderPlacedData } from '../../workflows/orders/contract';
import { CustomerIdAttribute, OrderIdAttribute } from '../../workflows/search-attributes';
import { eventually } from '../support/system';
import { expectNoInternals, signUp, startApi, terminateOrderWorkflows, type ApiHarness, type Member } from './harness';

let api: ApiHarness;
const startedWorkflows: string[] = [];

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  // Leave no pending orderWorkflow behind for tests that run an orders worker later.
  await terminateOrderWorkflows(api, startedWorkflows);
  await api?.close();
});

/** Places an order and waits until the outbox relay has started its workflow. */
async function placeOrder(member: Member, body: object = {}) {
  const res = await request(api.app).post('/v1/orders').set(member.auth).send(body).expect(202);
  startedWorkflows.push(orderWorkflowId(res.body.orderId));
  const handle = api.env.client.workflow.getHandle(orderWorkflowId(res.body.orderId));
  await eventually(
    () =>
      handle.describe().then(
        () => true,
        () => undefined,
      ),
    10_000,
    'the order workflow to be started',
  );
  return res;
}

let seeded = 0;
/** Writes a read-model row directly (no workflow), with a chosen creation time. */
async function seedOrder(member: Member, createdAt?: string): Promise<string> {
  seeded += 1;
  const orderId = `o_seed${Date.now().toString(36)}${seeded}`;
  const order: OrderPlacedData = {
    orderId,
    customerId: member.customerId,
    size: 'M',
    categories: ['dress'],
    itemCount: 3,
    address: { name: 'A', line1: '1 Road', city: 'Town', postcode: '1', country: 'GB' },
  };
  await upsertOrder(api.database.db, { order, status: 'placed' });
  if (createdAt) await api.database.sql`update orders.orders set created_at = ${createdAt}::timestamptz where id = ${orderId}`;
  return orderId;
}

async function orderCount(customerId: string): Promise<number> {
  const [{ count }] = await api.database.sql<{ count: number }[]>`select count(*)::int as count from orders.orders where customer_id = ${customerId}`;
  return count;
}

describe('POST /v1/orders', () => {
  test('places an order: 202 with Location, the read model answers at once, and the workflow is findable by OrderId', async () => {
    const member = await signUp(api.app);
    const res = await placeOrder(member);
    const { orderId } = res.body;
    expect(orderId).toMatch(/^o_[0-9a-z]{16}$/);
    expect(res.headers.location).toBe(`/v1/orders/${orderId}`);
    expect(res.body).toEqual({
      orderId,
      status: 'placed',
      links: expect.objectContaining({ self: `/v1/orders/${orderId}`, timeline: `/v1/orders/${orderId}/timeline` }),
    });

    const detail = await request(api.app).get(res.headers.location).set(member.auth).expect(200);
    expect(detail.body).toMatchObject({
      orderId,
      customerId: member.customerId,
      status: 'placed',
      size: 'M',
      categories: ['dress', 'knitwear'],
      itemCount: 3,
      address: expect.objectContaining({ country: 'GB' }),
      itemIds: [],
      links: { self: `/v1/orders/${orderId}` },
    });

    const description = await api.env.client.workflow.getHandle(orderWorkflowId(orderId)).describe();
    expect(description.type).toBe('orderWorkflow');
    expect(description.taskQueue).toBe('orders');
    expect(description.typedSearchAttributes.get(OrderIdAttribute)).toBe(orderId);
    expect(description.typedSearchAttributes.get(CustomerIdAttribute)).toBe(member.customerId);
    expect(await description.staticSummary()).toBe(`Box ${orderId} for ${member.customerId} — 3 items, size M`);
  });

  test('size, categories and item count in the request override the member profile', async () => {
    const member = await signUp(api.app);
    const res = await placeOrder(member, { itemCount: 5, size: 'L', categories: ['jacket', 'top', 'jacket'] });
    const handle = api.env.client.workflow.getHandle(orderWorkflowId(res.body.orderId));
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(started?.workflowType?.name).toBe('orderWorkflow');
    const detail = await request(api.app).get(`/v1/orders/${res.body.orderId}`).set(member.auth).expect(200);
    expect(detail.body).toMatchObject({ size: 'L', categories: ['jacket', 'top'], itemCount: 5 });
  });

  test('an unknown field or an out-of-range item count is 400 and neither an order nor a workflow is created', async () => {
    const member = await signUp(api.app);
    for (const body of [
      { itemCount: 2, status: 'delivered' },
      { customerId: 'c_someoneelse' },
      { itemCount: 7 },
      { itemCount: 0 },
      { size: 'XXL' },
      { categories: ['hat'] },
    ]) {
      const res = await request(api.app).post('/v1/orders').set(member.auth).send(body).expect(400);
      expect(res.body.type).toBe('https://closetflow.dev/problems/validation-error');
    }
    expect(await orderCount(member.customerId)).toBe(0);
    const { executions } = await api.env.client.workflowService.listWorkflowExecutions({
      namespace: 'default',
      // The member's membership workflow carries the CustomerId too: only order workflows count here.
      query: `CustomerId = '${member.customerId}' AND WorkflowType = 'orderWorkflow'`,
    });
    expect(executions ?? []).toHaveLength(0);
  });

  test('is 401 without a token and starts nothing', async () => {
    const res = await request(api.app).post('/v1/orders').send({}).expect(401);
    expect(res.body.type).toBe('https://closetflow.dev/problems/unauthorized');
  });
});

describe('GET /v1/orders', () => {
  test("lists only the caller's orders, newest first, page by page with a cursor", async () => {
    const member = await signUp(api.app);
    const other = await signUp(api.app);
    // Two orders share a creation time (to the microsecond): the id breaks the tie.
    const oldest = await seedOrder(member, '2026-01-01T10:00:00.000001Z');
    const tieA = await seedOrder(member, '2026-01-02T10:00:00.123456Z');
    const tieB = await seedOrder(member, '2026-01-02T10:00:00.123456Z');
    const newest = await seedOrder(member, '2026-01-03T10:00:00.999999Z');
    await seedOrder(other, '2026-01-04T00:00:00Z');
    const tiesDesc = [tieA, tieB].sort().reverse();

    const first = await request(api.app).get('/v1/orders?limit=2').set(member.auth).expect(200);
    expect(first.body.data.map((o: { orderId: string }) => o.orderId)).toEqual([newest, tiesDesc[0]]);
    expect(first.body.nextCursor).toEqual(expect.any(String));

    const second = await request(api.app).get('/v1/orders').query({ limit: 2, cursor: first.body.nextCursor }).set(member.auth).expect(200);
    expect(second.body.data.map((o: { orderId: string }) => o.orderId)).toEqual([tiesDesc[1], oldest]);
    expect(second.body.nextCursor).toBeNull();

    const all = await request(api.app).get('/v1/orders').set(member.auth).expect(200);
    expect(all.body.data).toHaveLength(4);
    expect(all.body.data.every((o: { customerId: string }) => o.customerId === member.customerId)).toBe(true);
  });

  test('rejects a bad limit, a forged cursor and unknown query parameters with 400', async () => {
    const member = await signUp(api.app);
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'cursor=not-a-cursor', 'customerId=c_x']) {
      const res = await request(api.app).get(`/v1/orders?${query}`).set(member.auth).expect(400);
      expect(res.body.type).toBe('https://closetflow.dev/problems/validation-error');
      expect(res.body.errors[0].in).toBe('query');
    }
  });
});

describe("another member's order", () => {
  test('is 404 on GET, timeline and cancel, exactly like an unknown order, and nothing is written', async () => {
    const owner = await signUp(api.app);
    const intruder = await signUp(api.app);
    const { orderId } = (await placeOrder(owner)).body;
    const handle = api.env.client.workflow.getHandle(orderWorkflowId(orderId));
    const historyBefore = (await handle.describe()).historyLength;
    const [rowBefore] = await api.database.sql`select * from orders.orders where id = ${orderId}`;

    const attempts = [
      () => request(api.app).get(`/v1/orders/${orderId}`).set(intruder.auth),
      () => request(api.app).get(`/v1/orders/${orderId}/timeline`).set(intruder.auth),
      () => request(api.app).post(`/v1/orders/${orderId}/cancel`).set(intruder.auth).send({ reason: 'mine now' }),
    ];
    for (const attempt of attempts) {
      const res = await attempt().expect(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/not-found', status: 404 });
      expectNoInternals(res.body);
    }
    const unknown = await request(api.app).get('/v1/orders/o_doesnotexist').set(intruder.auth).expect(404);
    expect(unknown.body.type).toBe('https://closetflow.dev/problems/not-found');

    const [rowAfter] = await api.database.sql`select * from orders.orders where id = ${orderId}`;
    expect(rowAfter).toEqual(rowBefore);
    expect((await handle.describe()).historyLength).toBe(historyBefore);
    const history = await handle.fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateAdmittedEventAttributes)).toBe(false);
  });
});

describe('GET /v1/orders/:orderId/timeline', () => {
  test("lists the order's event log rows in seq order, and only that order's", async () => {
    const member = await signUp(api.app);
    const orderId = await seedOrder(member);
    const source = { domain: 'orders', workflowId: orderWorkflowId(orderId), runId: 'run-1' };
    const insert = (id: string, type: string, occurredAt: string, correlationId: string, causationId: string | null, data: object) =>
      api.database.db.insert(eventLog).values({
        id,
        type,
        occurredAt: new Date(occurredAt),
        correlationId,
        causationId,
        sourceDomain: source.domain,
        sourceWorkflowId: source.workflowId,
        sourceRunId: source.runId,
        data,
        subscribers: ['styling.pick-items'],
      });
    // occurred_at deliberately out of order: the timeline follows publish order (seq), not clocks.
    await insert(`order:${orderId}:placed`, 'order.placed', '2026-01-01T10:00:05Z', orderId, null, { orderId });
    await insert(`styling:${orderId}:completed`, 'styling.completed', '2026-01-01T10:00:01Z', orderId, `order:${orderId}:placed`, { orderId, items: [] });
    await insert(`order:o_other${orderId}:placed`, 'order.placed', '2026-01-01T10:00:02Z', `o_other${orderId}`, null, {});
    await insert(`inventory:${orderId}:reserved`, 'inventory.reserved', '2026-01-01T10:00:03Z', orderId, `styling:${orderId}:completed`, { orderId });

    const res = await request(api.app).get(`/v1/orders/${orderId}/timeline`).set(member.auth).expect(200);
    expect(res.body.orderId).toBe(orderId);
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual(['order.placed', 'styling.completed', 'inventory.reserved']);
    const seqs = res.body.events.map((e: { seq: number }) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(res.body.events[1]).toEqual({
      seq: expect.any(Number),
      id: `styling:${orderId}:completed`,
      type: 'styling.completed',
      occurredAt: '2026-01-01T10:00:01.000Z',
      causationId: `order:${orderId}:placed`,
      source,
      data: { orderId, items: [] },
      subscribers: ['styling.pick-items'],
    });
  });

  test('logs the request with its request id, member and order', async () => {
    const member = await signUp(api.app);
    const orderId = await seedOrder(member);
    const res = await request(api.app).get(`/v1/orders/${orderId}/timeline`).set(member.auth).set('X-Request-Id', `req-${orderId}`).expect(200);
    expect(res.headers['x-request-id']).toBe(`req-${orderId}`);
    const line = api.logs.find((l) => l.msg === 'request' && l.requestId === `req-${orderId}`);
    expect(line).toMatchObject({
      domain: 'api',
      requestId: `req-${orderId}`,
      customerId: member.customerId,
      orderId,
      status: 200,
      path: `/v1/orders/${orderId}/timeline`,
    });
  });

  test('is an empty list for an order with no events yet', async () => {
    const member = await signUp(api.app);
    const orderId = await seedOrder(member);
    await request(api.app).get(`/v1/orders/${orderId}/timeline`).set(member.auth).expect(200, { orderId, events: [] });
  });
});

describe('POST /v1/orders/:orderId/cancel without a workflow', () => {
  test('is 409 order-not-cancellable when the order workflow no longer exists', async () => {
    const member = await signUp(api.app);
    const orderId = await seedOrder(member); // a read-model row whose workflow never ran
    await expect(api.env.client.workflow.getHandle(orderWorkflowId(orderId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    const res = await request(api.app).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({}).expect(409);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/order-not-cancellable', status: 409 });
  });
});
