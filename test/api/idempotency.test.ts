/** Idempotency-Key on POST /v1/orders and on purchases, against the real database and Temporal. */
import request from 'supertest';
import { upsertOrder } from '../../store/orders/orders';
import { requestFingerprint } from '../../api/idempotency';
import { orderWorkflowId } from '../../workflows/orders/contract';
import { CustomerIdAttribute } from '../../workflows/search-attributes';
import { eventually } from '../support/system';
import { signUp, startApi, type ApiHarness, type Member, terminateOrderWorkflows } from './harness';

let api: ApiHarness;
const started: string[] = [];

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await terminateOrderWorkflows(api, started);
  await api?.close();
});

let n = 0;
const newKey = () => `key-${Date.now().toString(36)}-${process.pid}-${++n}`;

async function orderRows(customerId: string): Promise<string[]> {
  const rows = await api.database.sql<{ id: string }[]>`select id from orders.orders where customer_id = ${customerId}`;
  return rows.map((r) => r.id);
}

const place = (member: Member, key: string, body: object = { itemCount: 2 }) =>
  request(api.app).post('/v1/orders').set(member.auth).set('Idempotency-Key', key).send(body);

describe('Idempotency-Key on POST /v1/orders', () => {
  test('the same key and body replays the first response, marked as a replay, and creates nothing more', async () => {
    const member = await signUp(api.app);
    const key = newKey();
    const first = await place(member, key).expect(202);
    started.push(orderWorkflowId(first.body.orderId));
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    // Same JSON with its keys in another order is the same request.
    const again = await request(api.app)
      .post('/v1/orders')
      .set(member.auth)
      .set('Idempotency-Key', key)
      .set('Content-Type', 'application/json')
      .send('{"itemCount":2}')
      .expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.headers.location).toBe(first.headers.location);
    expect(await orderRows(member.customerId)).toEqual([first.body.orderId]);
  });

  test('the same key with a different body is 422 idempotency-key-reused', async () => {
    const member = await signUp(api.app);
    const key = newKey();
    const first = await place(member, key, { itemCount: 2 }).expect(202);
    started.push(orderWorkflowId(first.body.orderId));
    const res = await place(member, key, { itemCount: 4 }).expect(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/idempotency-key-reused', status: 422 });
    expect(await orderRows(member.customerId)).toHaveLength(1);
  });

  test('keys are scoped per member: the same key from another member places their own order', async () => {
    const [a, b] = [await signUp(api.app), await signUp(api.app)];
    const key = newKey();
    const ra = await place(a, key).expect(202);
    const rb = await place(b, key).expect(202);
    started.push(orderWorkflowId(ra.body.orderId), orderWorkflowId(rb.body.orderId));
    expect(rb.headers['idempotent-replayed']).toBeUndefined();
    expect(rb.body.orderId).not.toBe(ra.body.orderId);
  });

  test('a request while the first with the key is still in flight is 409 with Retry-After', async () => {
    const member = await signUp(api.app);
    const key = newKey();
    // The first request took the key and has not answered yet.
    await api.database.sql`insert into api.idempotency_keys (customer_id, key, fingerprint, state, expires_at)
      values (${member.customerId}, ${key}, ${requestFingerprint('POST', '/v1/orders', { itemCount: 2 })}, 'in_flight', now() + interval '1 hour')`;
    const res = await place(member, key).expect(409);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/idempotency-key-in-flight', status: 409 });
    expect(res.headers['retry-after']).toBe('1');
    expect(await orderRows(member.customerId)).toHaveLength(0);
  });

  test('a key held by a request that died (lock older than a minute) is taken over, reaching the same order', async () => {
    const member = await signUp(api.app);
    const key = newKey();
    await api.database.sql`insert into api.idempotency_keys (customer_id, key, fingerprint, state, locked_at, expires_at)
      values (${member.customerId}, ${key}, ${requestFingerprint('POST', '/v1/orders', { itemCount: 2 })}, 'in_flight', now() - interval '2 minutes', now() + interval '1 hour')`;
    const res = await place(member, key).expect(202);
    started.push(orderWorkflowId(res.body.orderId));
    expect(await orderRows(member.customerId)).toEqual([res.body.orderId]);
  });

  test('two concurrent identical requests create one order and one workflow', async () => {
    const member = await signUp(api.app);
    const key = newKey();
    const responses = await Promise.all([place(member, key), place(member, key), place(member, key)]);
    const statuses = responses.map((r) => r.status).sort();
    // One ran; the others were refused while it ran (409) or replayed its answer (202).
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    for (const r of responses.filter((x) => x.status === 409)) {
      expect(r.body.type).toBe('https://closetflow.dev/problems/idempotency-key-in-flight');
      expect(r.headers['retry-after']).toBe('1');
    }
    const ids = new Set(responses.filter((r) => r.status === 202).map((r) => r.body.orderId as string));
    expect(ids.size).toBe(1);
    const [orderId] = [...ids];
    started.push(orderWorkflowId(orderId));
    expect(await orderRows(member.customerId)).toEqual([orderId]);
    // A retry after the first finished replays it.
    const later = await place(member, key).expect(202);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(later.body.orderId).toBe(orderId);
    const workflows = await eventually(
      async () => {
        const list = [];
        for await (const w of api.env.client.workflow.list({
          query: `${CustomerIdAttribute.name} = "${member.customerId}" AND WorkflowType = "orderWorkflow"`,
        }))
          list.push(w.workflowId);
        return list.length > 0 ? list : undefined;
      },
      20_000,
      'the order workflow in visibility',
    );
    expect(workflows).toEqual([orderWorkflowId(orderId)]);
  });

  test('a refused order is not remembered: a corrected retry with the same key places the order', async () => {
    const member = await signUp(api.app);
    const key = newKey();
    await place(member, key, { itemCount: 0 }).expect(400);
    const [row] = await api.database.sql`select 1 from api.idempotency_keys where customer_id = ${member.customerId} and key = ${key}`;
    expect(row).toBeUndefined();
    const res = await place(member, key, { itemCount: 2 }).expect(202);
    started.push(orderWorkflowId(res.body.orderId));
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await orderRows(member.customerId)).toEqual([res.body.orderId]);
  });

  test('the key is stored with the order: its answer is the 202 that was sent', async () => {
    const member = await signUp(api.app);
    const key = newKey();
    const res = await place(member, key).expect(202);
    started.push(orderWorkflowId(res.body.orderId));
    const [row] = await api.database.sql<{ state: string; response_status: number; response_body: string; response_headers: Record<string, string> }[]>`
      select state, response_status, response_body, response_headers from api.idempotency_keys where customer_id = ${member.customerId} and key = ${key}`;
    expect(row).toMatchObject({ state: 'completed', response_status: 202 });
    expect(JSON.parse(row!.response_body)).toEqual(res.body);
    expect(row!.response_headers).toEqual({ 'content-type': res.headers['content-type'], location: res.headers.location });
  });

  test('a malformed key is a 400 validation problem naming the header', async () => {
    const member = await signUp(api.app);
    const res = await place(member, 'has spaces in it').expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ in: 'header', path: 'Idempotency-Key' })]);
    expect(await orderRows(member.customerId)).toHaveLength(0);
  });

  test('an expired key reused with another body places a second order with that body', async () => {
    const member = await signUp(api.app);
    const key = newKey();
    const first = await place(member, key, { itemCount: 1 }).expect(202);
    started.push(orderWorkflowId(first.body.orderId));
    await api.database.sql`update api.idempotency_keys set expires_at = now() - interval '1 second' where customer_id = ${member.customerId} and key = ${key}`;
    const again = await place(member, key, { itemCount: 3 }).expect(202);
    started.push(orderWorkflowId(again.body.orderId));
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.body.orderId).not.toBe(first.body.orderId);
    const rows = await api.database.sql<
      { id: string; item_count: number }[]
    >`select id, item_count from orders.orders where customer_id = ${member.customerId} order by item_count`;
    expect(rows.map((r) => ({ id: r.id, itemCount: r.item_count }))).toEqual([
      { id: first.body.orderId, itemCount: 1 },
      { id: again.body.orderId, itemCount: 3 },
    ]);
  });

  test('an expired key retried with the same body reaches the same order, not a second one', async () => {
    const member = await signUp(api.app);
    const key = newKey();
    const first = await place(member, key, { itemCount: 2 }).expect(202);
    started.push(orderWorkflowId(first.body.orderId));
    await api.database.sql`update api.idempotency_keys set expires_at = now() - interval '1 second' where customer_id = ${member.customerId} and key = ${key}`;
    const again = await place(member, key, { itemCount: 2 }).expect(202);
    expect(again.body.orderId).toBe(first.body.orderId);
    expect(await orderRows(member.customerId)).toHaveLength(1);
  });
});

describe('Idempotency-Key on purchases', () => {
  test('a purchase answer is replayed for the same key and item, and the key with another item is 422', async () => {
    const member = await signUp(api.app);
    // A read-model row with no running workflow: the purchase is refused (409), which is the stored answer.
    const orderId = `o_idem${Date.now().toString(36)}`;
    await upsertOrder(api.database.db, {
      order: {
        orderId,
        customerId: member.customerId,
        size: 'M',
        categories: ['dress'],
        itemCount: 1,
        address: { name: 'A', line1: '1', city: 'T', postcode: '1', country: 'GB' },
      },
      status: 'delivered',
    });
    const key = newKey();
    const buy = (itemId: string) => request(api.app).post(`/v1/orders/${orderId}/items/${itemId}/purchase`).set(member.auth).set('Idempotency-Key', key);
    const first = await buy('item_1').expect(409);
    expect(first.body.type).toBe('https://closetflow.dev/problems/purchase-not-allowed');
    const replay = await buy('item_1').expect(409);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    await buy('item_2').expect(422);
  });
});
