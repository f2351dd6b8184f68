/**
 * The rental lifecycle after delivery, with the real workers, dev server, PostgreSQL, the API on a
 * real port and the WMS simulator calling it back: return requests, the WMS return pickup and
 * arrival, per-item inspection (returns) and restock / retire (inventory), the order closing, and
 * member purchases.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { createWmsSimulator, type WmsRunningServer, type WmsSimulator } from '../../simulators/wms/server';
import { returnWorkflowId } from '../../workflows/returns/contract';
import { startOrder } from '../support/orders';
import { eventually, startSystem, timelineTypes, uniqueId, type RunningSystem } from '../support/system';
import { signUp, testConfig, TEST_WMS_SECRET, type Member } from '../api/harness';

describe('returning and buying a delivered box', () => {
  let system: RunningSystem;
  let wms: WmsSimulator;
  let wmsServer: WmsRunningServer;
  let apiServer: http.Server;
  let app: ReturnType<typeof createApp> | undefined;

  beforeAll(async () => {
    // The WMS needs the API's URL and the workers need the WMS's: listen first, build the app last.
    apiServer = http.createServer((req, res) => {
      if (app) return app(req, res);
      res.statusCode = 503;
      res.end();
    });
    await new Promise<void>((resolve) => apiServer.listen(0, '127.0.0.1', resolve));
    const apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
    wms = createWmsSimulator({ callbackUrl: `${apiUrl}/v1/webhooks/wms`, webhookSecret: TEST_WMS_SECRET, faults: { stepMs: 200 } });
    wmsServer = await wms.start(0);
    process.env.INVENTORY_CLEANING_TIME = '1 second';
    system = await startSystem({
      wmsUrl: wmsServer.url,
      domains: ['orders', 'styling', 'inventory', 'warehouse-integration', 'warehouse', 'returns'],
    });
    app = createApp({ config: testConfig(), database: system.database, temporal: system.client, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    delete process.env.INVENTORY_CLEANING_TIME;
    await system?.stop();
    await wmsServer?.close();
    apiServer?.closeAllConnections();
    await new Promise((resolve) => apiServer?.close(resolve));
  });

  const orderRow = async (orderId: string) =>
    (
      await system.database.sql<{ status: string; purchased_item_ids: string[] }[]>`select status, purchased_item_ids from orders.orders where id = ${orderId}`
    )[0];
  const waitForStatus = (orderId: string, status: string, timeoutMs = 30_000) =>
    eventually(async () => ((await orderRow(orderId))?.status === status ? true : undefined), timeoutMs, status);

  /** Two items in a size of their own (one whose sku marks it damaged), and a member's box of both. */
  async function deliveredBox(opts: { untilDelivered?: boolean } = {}) {
    const size = uniqueId('T');
    const clean = `itm_${size}_top`;
    const damaged = `itm_${size}_dress`;
    await system.database.sql`insert into inventory.items (id, sku, category, size, colour, purchase_price_cents) values
      (${clean}, ${`TOP-BLACK-${size}`.toUpperCase()}, 'top', ${size}, 'black', 4500),
      (${damaged}, ${`DRESS-DAMAGED-${size}`.toUpperCase()}, 'dress', ${size}, 'red', 6900)`;
    const member: Member = await signUp(app!);
    const { input, handle } = await startOrder(system.client, { customerId: member.customerId, size, categories: ['dress', 'top'], itemCount: 2 });
    if (opts.untilDelivered !== false) await waitForStatus(input.orderId, 'delivered');
    return { member, orderId: input.orderId, handle, clean, damaged, itemIds: [clean, damaged] };
  }

  it('takes a delivered box through return, inspection (one clean, one damaged), restock / retire, and closes the order', async () => {
    const { member, orderId, handle, clean, damaged, itemIds } = await deliveredBox();
    const before = await system.database.sql<{ n: number }[]>`select count(*)::int as n from inventory.items where id = any(${itemIds})`;

    const accepted = await request(app!).post(`/v1/orders/${orderId}/return`).set(member.auth).send({}).expect(202);
    expect(accepted.body).toMatchObject({ orderId, status: 'return_requested' });
    // The WMS collects the box and reports its arrival; returns inspects each item.
    await expect(handle.result()).resolves.toEqual({ status: 'closed' });
    expect((await orderRow(orderId)).status).toBe('closed');
    await expect(system.client.workflow.getHandle(returnWorkflowId(orderId)).result()).resolves.toEqual({
      restockedItemIds: [clean],
      retiredItemIds: [damaged],
      purchasedItemIds: [],
      lostItemIds: [],
    });

    const types = await timelineTypes(system.database, orderId);
    expect(types.slice(0, 6)).toEqual([
      'order.placed',
      'styling.completed',
      'inventory.reserved',
      'shipment.requested',
      'shipment.shipped',
      'shipment.delivered',
    ]);
    expect(types.slice(6, 8)).toEqual(['return.requested', 'return.arrived']);
    // Returns states each inspection; inventory answers for each item after moving it.
    expect(types.slice(8, 12).sort()).toEqual(['item.inspected', 'item.inspected', 'item.restocked', 'item.retired']);
    expect(types[12]).toBe('return.completed');
    expect(types).toHaveLength(13);
    const causes = await system.database.sql<{ id: string; causation_id: string }[]>`
      select id, causation_id from events.event_log where correlation_id = ${orderId} and type in ('item.inspected', 'item.restocked', 'item.retired') order by id`;
    expect(Object.fromEntries(causes.map((e) => [e.id, e.causation_id]))).toEqual({
      [`inventory:${orderId}:${clean}:restocked`]: `return:${orderId}:${clean}:inspected`,
      [`inventory:${orderId}:${damaged}:retired`]: `return:${orderId}:${damaged}:inspected`,
      [`return:${orderId}:${clean}:inspected`]: `warehouse:${orderId}:return-arrived`,
      [`return:${orderId}:${damaged}:inspected`]: `warehouse:${orderId}:return-arrived`,
    });
    await expect(system.client.workflow.getHandle(`restock:${orderId}:${clean}`).result()).resolves.toEqual({ itemId: clean, outcome: 'restocked' });
    await expect(system.client.workflow.getHandle(`restock:${orderId}:${damaged}`).result()).resolves.toEqual({ itemId: damaged, outcome: 'retired' });

    // Every item ends in exactly one state, and none appeared or vanished.
    const rows = await system.database.sql<
      { id: string; state: string; order_id: string | null }[]
    >`select id, state, order_id from inventory.items where id = any(${itemIds}) order by id`;
    expect(rows).toHaveLength(before[0].n);
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.state, r.order_id]]))).toEqual({ [clean]: ['available', null], [damaged]: ['retired', orderId] });
    const inspections = await system.database.sql<
      { item_id: string; outcome: string }[]
    >`select item_id, outcome from returns.inspections where order_id = ${orderId} order by item_id`;
    expect(inspections).toEqual(
      [
        { item_id: damaged, outcome: 'damaged' },
        { item_id: clean, outcome: 'clean' },
      ].sort((a, b) => a.item_id.localeCompare(b.item_id)),
    );
    // The WMS sent the return once; the duplicate request is refused by the closed order.
    expect([...wms.instructions.values()].find((i) => i.orderId === orderId)?.returnArrivedAt).toBeDefined();
    await request(app!).post(`/v1/orders/${orderId}/return`).set(member.auth).send({}).expect(409);
  });

  it('refuses a return requested before delivery with 409 return-not-allowed, leaving the order as it was', async () => {
    wms.faults.stepMs = 600_000;
    try {
      const { member, orderId, handle } = await deliveredBox({ untilDelivered: false });
      await waitForStatus(orderId, 'awaiting_shipment');
      const res = await request(app!).post(`/v1/orders/${orderId}/return`).set(member.auth).send({}).expect(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({
        type: 'https://closetflow.dev/problems/return-not-allowed',
        status: 409,
        detail: expect.stringContaining('awaiting_shipment'),
      });
      expect((await orderRow(orderId)).status).toBe('awaiting_shipment');
      expect(await timelineTypes(system.database, orderId)).not.toContain('return.requested');
      await handle.terminate('test done');
    } finally {
      wms.faults.stepMs = 200;
    }
  });

  it('lets the member buy an item of the box once: a second purchase of the same item is 409 already-purchased', async () => {
    const { member, orderId, handle, clean, itemIds } = await deliveredBox();
    const first = await request(app!).post(`/v1/orders/${orderId}/items/${clean}/purchase`).set(member.auth).send({}).expect(202);
    expect(first.body).toMatchObject({ orderId, itemId: clean, priceCents: 4500, status: 'purchase_requested' });
    const again = await request(app!).post(`/v1/orders/${orderId}/items/${clean}/purchase`).set(member.auth).send({}).expect(409);
    expect(again.body).toMatchObject({ type: 'https://closetflow.dev/problems/already-purchased' });
    // An item that is not in the box, and someone else's order, are refused too.
    const foreign = await request(app!).post(`/v1/orders/${orderId}/items/itm_not_in_box/purchase`).set(member.auth).send({}).expect(409);
    expect(foreign.body.type).toBe('https://closetflow.dev/problems/purchase-not-allowed');
    const stranger = await signUp(app!);
    await request(app!).post(`/v1/orders/${orderId}/items/${clean}/purchase`).set(stranger.auth).send({}).expect(404);

    const purchases = await system.database.sql<{ id: string; data: { reason: string; priceCents: number } }[]>`
      select id, data from events.event_log where correlation_id = ${orderId} and type = 'purchase.requested'`;
    expect(purchases).toEqual([
      { id: `order:${orderId}:purchase:${clean}`, data: expect.objectContaining({ reason: 'member', priceCents: 4500, itemId: clean }) },
    ]);
    // The return workflow knows the item is being bought, so it will not expect it back.
    await eventually(async () => {
      const state = await system.client.workflow.getHandle(returnWorkflowId(orderId)).query('returnState');
      return (state as { purchaseRequestedItemIds: string[] }).purchaseRequestedItemIds.includes(clean) ? true : undefined;
    });
    expect(itemIds).toContain(clean);
    await handle.terminate('test done');
    await system.client.workflow.getHandle(returnWorkflowId(orderId)).terminate('test done');
  });
});
