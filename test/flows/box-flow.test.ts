/**
 * The box flow across domains with real workers, the real dev server, real PostgreSQL and the
 * real WMS simulator (callbacks go to a black hole here: shipping is covered with the API).
 */
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { createWmsSimulator, type WmsSimulator, type WmsRunningServer } from '../../simulators/wms/server';
import { createInventoryActivities } from '../../activities/inventory';
import { orderDetailQuery, cancelOrderUpdate } from '../../workflows/orders/contract';
import { reservationWorkflowId } from '../../workflows/inventory/contract';
import { stylingWorkflowId } from '../../workflows/styling/contract';
import { wmsInstructionWorkflowId } from '../../workflows/warehouse-integration/contract';
import { startOrder } from '../support/orders';
import { eventually, seedItems, startSystem, timelineTypes, type RunningSystem } from '../support/system';

describe('a box moving through the domains', () => {
  let system: RunningSystem;
  let wms: WmsSimulator;
  let wmsServer: WmsRunningServer;

  beforeAll(async () => {
    // Slow steps: no box ships during these tests, so cancellation is always "before shipment".
    wms = createWmsSimulator({ callbackUrl: 'http://127.0.0.1:9/unused', webhookSecret: 'test-secret-0123456789', faults: { stepMs: 600_000 } });
    wmsServer = await wms.start(0);
    system = await startSystem({ wmsUrl: wmsServer.url });
  });
  afterAll(async () => {
    await system?.stop();
    await wmsServer?.close();
  });

  const itemsOf = async (orderId: string) =>
    system.database.sql<{ id: string; state: string }[]>`select id, state from inventory.items where order_id = ${orderId} order by id`;
  const orderRow = async (orderId: string) =>
    (await system.database.sql<{ status: string; status_reason: string | null }[]>`select status, status_reason from orders.orders where id = ${orderId}`)[0];

  it('styles, reserves and hands a box to the WMS, publishing each step in causal order', async () => {
    const { size } = await seedItems(system.database, ['dress', 'top'], 3);
    const { input } = await startOrder(system.client, { size });
    await eventually(async () => ((await orderRow(input.orderId))?.status === 'awaiting_shipment' ? true : undefined), 30_000, 'awaiting_shipment');
    expect(await timelineTypes(system.database, input.orderId)).toEqual(['order.placed', 'styling.completed', 'inventory.reserved', 'shipment.requested']);
    const held = await itemsOf(input.orderId);
    expect(held).toHaveLength(2);
    expect(held.every((i) => i.state === 'reserved')).toBe(true);
    const instruction = [...wms.instructions.values()].find((i) => i.orderId === input.orderId);
    expect(instruction?.items.map((i) => i.itemId).sort()).toEqual(held.map((i) => i.id));
    // Each event names the event that caused it.
    const rows = await system.database.sql<
      { id: string; causation_id: string | null }[]
    >`select id, causation_id from events.event_log where correlation_id = ${input.orderId} order by seq`;
    expect(rows.map((r) => r.causation_id)).toEqual([null, rows[0].id, rows[1].id, rows[2].id]);
  });

  it('releases the reservation and cancels the WMS instruction when the order is cancelled before shipment', async () => {
    const { size } = await seedItems(system.database, ['dress'], 2);
    const { input, handle } = await startOrder(system.client, { size, categories: ['dress'], itemCount: 1 });
    await eventually(async () => ((await orderRow(input.orderId))?.status === 'awaiting_shipment' ? true : undefined), 30_000, 'awaiting_shipment');
    const heldIds = (await itemsOf(input.orderId)).map((i) => i.id);

    const result = await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'changed my mind' }] });
    expect(result.status).toBe('cancelled');
    await expect(handle.result()).resolves.toEqual({ status: 'cancelled', reason: 'changed my mind' });

    await eventually(async () => ((await itemsOf(input.orderId)).length === 0 ? true : undefined), 20_000, 'release');
    const states = await system.database.sql<{ state: string }[]>`select state from inventory.items where id = any(${heldIds})`;
    expect(states.map((s) => s.state)).toEqual(['available']);
    await eventually(
      async () => ([...wms.instructions.values()].find((i) => i.orderId === input.orderId)?.status === 'cancelled' ? true : undefined),
      20_000,
      'WMS cancel',
    );
    // inventory.released is published after the release: wait for the reservation to finish.
    await expect(system.client.workflow.getHandle(reservationWorkflowId(input.orderId)).result()).resolves.toMatchObject({ outcome: 'released' });
    // Stock is let go only after warehouse integration confirmed the cancel (shipment.cancelled).
    expect(await timelineTypes(system.database, input.orderId)).toEqual([
      'order.placed',
      'styling.completed',
      'inventory.reserved',
      'shipment.requested',
      'order.cancelled',
      'shipment.cancelled',
      'inventory.released',
    ]);
    await expect(handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'again' }] })).rejects.toThrow();
  });

  /** Starts an order with inventory held back, and answers styling's first pick before inventory sees it. */
  async function firstPickHeldBack(size: string, categories: string[]) {
    await system.stop();
    system = await startSystem({ wmsUrl: wmsServer.url, domains: ['orders', 'styling', 'warehouse-integration', 'warehouse'] });
    const { input } = await startOrder(system.client, { size, categories, itemCount: 1 });
    const firstPick = await eventually(async () => {
      const rows = await system.database.sql<{ item_ids: string[] }[]>`select item_ids from styling.picks where order_id = ${input.orderId} and attempt = 1`;
      return rows[0]?.item_ids;
    });
    return { input, firstPick };
  }
  const thief = () => createInventoryActivities(system.database);
  const asPicks = async (ids: string[]) =>
    system.database.sql<{ itemId: string; sku: string; category: string; size: string; colour: string }[]>`
      select id as "itemId", sku, category, size, colour from inventory.items where id = any(${ids})`;

  it('holds another free item of the size and category when another order took the picked one, with no shortage', async () => {
    const { size } = await seedItems(system.database, ['top'], 3);
    const { input, firstPick } = await firstPickHeldBack(size, ['top']);
    await expect(thief().reserveItems({ orderId: `thief-${input.orderId}`, attempt: 1, items: await asPicks(firstPick) })).resolves.toMatchObject({
      reserved: true,
    });

    await system.stop();
    system = await startSystem({ wmsUrl: wmsServer.url });
    await eventually(async () => ((await orderRow(input.orderId))?.status === 'awaiting_shipment' ? true : undefined), 30_000, 'awaiting_shipment');
    expect(await timelineTypes(system.database, input.orderId)).toEqual(['order.placed', 'styling.completed', 'inventory.reserved', 'shipment.requested']);
    const held = await itemsOf(input.orderId);
    expect(held).toHaveLength(1);
    expect(firstPick).not.toContain(held[0].id);
    const styling = await system.client.workflow.getHandle(stylingWorkflowId(input.orderId)).result();
    expect(styling).toEqual({ outcome: 'reserved', attempts: 1 });
  });

  it('re-picks in another category when the picked category has no free item left, then reserves the new pick', async () => {
    const { size } = await seedItems(system.database, ['top', 'skirt'], 1);
    const { input, firstPick } = await firstPickHeldBack(size, ['top', 'skirt']);
    // The thief takes every item of the picked category.
    const [picked] = await asPicks(firstPick);
    const all = await system.database.sql<{ id: string }[]>`select id from inventory.items where size = ${size} and category = ${picked.category}`;
    await expect(thief().reserveItems({ orderId: `thief-${input.orderId}`, attempt: 1, items: await asPicks(all.map((r) => r.id)) })).resolves.toMatchObject({
      reserved: true,
    });

    await system.stop();
    system = await startSystem({ wmsUrl: wmsServer.url });
    await eventually(async () => ((await orderRow(input.orderId))?.status === 'awaiting_shipment' ? true : undefined), 30_000, 'awaiting_shipment');
    expect(await timelineTypes(system.database, input.orderId)).toEqual([
      'order.placed',
      'styling.completed',
      'inventory.shortage',
      'styling.completed',
      'inventory.reserved',
      'shipment.requested',
    ]);
    const held = await itemsOf(input.orderId);
    expect(held).toHaveLength(1);
    expect(firstPick).not.toContain(held[0].id);
    const styling = await system.client.workflow.getHandle(stylingWorkflowId(input.orderId)).result();
    expect(styling).toEqual({ outcome: 'reserved', attempts: 2 });
  });

  it('cancels the order with a reason when styling finds no stock', async () => {
    const { input, handle } = await startOrder(system.client, { size: 'NO-SUCH-SIZE', categories: ['dress'] });
    await expect(handle.result()).resolves.toMatchObject({ status: 'cancelled' });
    expect((await orderRow(input.orderId)).status_reason).toMatch(/styling failed: no available stock/);
    // No instruction was ever sent: warehouse integration's tombstone confirms the cancel at once.
    expect(await timelineTypes(system.database, input.orderId)).toEqual(['order.placed', 'styling.failed', 'order.cancelled', 'shipment.cancelled']);
    // Styling had already finished when order.cancelled came: that delivery is recorded as rejected.
    const deliveries = await system.database.sql<{ subscriber: string; outcome: string }[]>`
      select subscriber, outcome from events.deliveries where event_id = ${`order:${input.orderId}:cancelled`} order by subscriber`;
    expect(deliveries).toEqual(
      expect.arrayContaining([
        { subscriber: 'styling.stop-on-cancel', outcome: 'rejected' },
        { subscriber: 'inventory.release-on-cancel', outcome: 'started' },
        { subscriber: 'warehouse-integration.cancel-instruction', outcome: 'started' },
      ]),
    );
    // The cancel left tombstones: a late pick can never reserve or ship for this order.
    for (const id of [reservationWorkflowId(input.orderId), wmsInstructionWorkflowId(input.orderId)]) {
      await eventually(async () => ((await system.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED' ? true : undefined));
    }
  });

  it('keeps retrying through a WMS outage and hands the box over once the WMS is back', async () => {
    const { size } = await seedItems(system.database, ['skirt'], 2);
    wms.faults.outageUntil = new Date(Date.now() + 6_000).toISOString();
    const { input, handle } = await startOrder(system.client, { size, categories: ['skirt'], itemCount: 1 });
    const wmsHandle = system.client.workflow.getHandle(wmsInstructionWorkflowId(input.orderId));
    // During the outage the instruction is a pending activity with a growing attempt count,
    // and the order is healthy and waiting.
    const attempts = await eventually(
      async () => {
        const d = await wmsHandle.describe();
        const pending = d.raw.pendingActivities?.[0];
        return pending && (pending.attempt ?? 0) >= 2 ? pending.attempt : undefined;
      },
      20_000,
      'retrying instruction',
    );
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect((await handle.query(orderDetailQuery)).status).toBe('reserved');
    await eventually(async () => ((await orderRow(input.orderId))?.status === 'awaiting_shipment' ? true : undefined), 40_000, 'recovery');
    wms.faults.outageUntil = null;
  });

  it('fails the instruction workflow visibly when the WMS rejects the address, keeping the stock held', async () => {
    const { size } = await seedItems(system.database, ['jacket'], 2);
    const { input } = await startOrder(system.client, {
      size,
      categories: ['jacket'],
      itemCount: 1,
      address: { name: 'Bad Address', line1: 'REJECT me', city: 'Nowhere', postcode: 'X1', country: 'GB' },
    });
    const wmsHandle = system.client.workflow.getHandle(wmsInstructionWorkflowId(input.orderId));
    const failure = await eventually(
      async () => {
        try {
          await wmsHandle.result();
          return undefined;
        } catch (err) {
          return err instanceof WorkflowNotFoundError ? undefined : err;
        }
      },
      30_000,
      'workflow failure',
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((await wmsHandle.describe()).status.name).toBe('FAILED');
    await eventually(async () => ((await orderRow(input.orderId))?.status === 'address_rejected' ? true : undefined), 20_000, 'address_rejected');
    expect((await itemsOf(input.orderId)).map((i) => i.state)).toEqual(['reserved']);
    expect(await timelineTypes(system.database, input.orderId)).toContain('shipment.rejected');
  });
});
