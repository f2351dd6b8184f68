/**
 * The long timers of a return on the time-skipping test server: reminders at their offsets (once
 * each), the deadline and the arrival bound (return.overdue, purchase.requested per unreturned
 * item), cleaning in inventory, and the final bound after a failed purchase (item.lost). Events
 * from domains not running here (orders, warehouse, payment) are signalled in as their publishers
 * would send them. The test server has no custom search attributes, so the workflow is started
 * without them (its children copy the empty set).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadRegistry } from '../../workers/registry';
import { eventSignal, type EventEnvelope } from '../../workflows/bus/contract';
import { RETURNS_TASK_QUEUE, returnStateQuery, returnWorkflowId, type ReturnWorkflowInput } from '../../workflows/returns/contract';
import type { returnWorkflow } from '../../workflows/returns/workflows';
import { createTimeSkippingEnv } from '../support/temporal';
import { eventually, startSystem, timelineTypes, uniqueId, type RunningSystem } from '../support/system';

describe('an overdue box (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let system: RunningSystem;
  // A fresh test server per test: a clock left locked by one test's last call would otherwise
  // stall the next test's skipped time (seen in CI after tests that end on result()).
  beforeEach(async () => {
    env = await createTimeSkippingEnv();
    // Only returns and inventory's restock listen here: a charge started on the (unpolled) payment
    // queue would hold the test server's clock still.
    const full = loadRegistry();
    const subscriptions = full.subscriptions.filter((s) => s.domain === 'returns' || s.workflowType === 'restockWorkflow');
    // Cleaning takes two days here, so the tests can see an item in cleaning across skipped time.
    process.env.INVENTORY_CLEANING_TIME = '2 days';
    system = await startSystem({ env, domains: ['inventory', 'returns'], registry: { events: full.events, subscriptions } });
  });
  afterEach(async () => {
    delete process.env.INVENTORY_CLEANING_TIME;
    await system?.stop();
    await env?.teardown();
  });

  /** Two items out with the member for a fresh order (moved along the legal path); the second sku may mark it damaged. */
  async function itemsAtHome(orderId: string, skus: [string, string] = ['TOP-OVERDUE', 'SKIRT-OVERDUE']): Promise<string[]> {
    const size = uniqueId('T');
    const ids = [`itm_${size}_a`, `itm_${size}_b`];
    await system.database.sql`insert into inventory.items (id, sku, category, size, colour, purchase_price_cents) values
      (${ids[0]}, ${skus[0]}, 'top', ${size}, 'black', 4100), (${ids[1]}, ${skus[1]}, 'skirt', ${size}, 'navy', 5200)`;
    await system.database.sql`update inventory.items set state = 'reserved', order_id = ${orderId} where id = any(${ids})`;
    await system.database.sql`update inventory.items set state = 'shipped' where id = any(${ids})`;
    return ids;
  }

  const envelope = <D>(id: string, type: string, orderId: string, data: D): EventEnvelope<D> => ({
    id,
    type,
    occurredAt: new Date().toISOString(),
    correlationId: orderId,
    causationId: null,
    source: { domain: 'warehouse', workflowId: `test:${orderId}`, runId: 'test' },
    data,
  });

  const eventData = async (orderId: string, type: string) =>
    (
      await system.database.sql<
        { data: Record<string, unknown> }[]
      >`select data from events.event_log where correlation_id = ${orderId} and type = ${type} order by seq`
    ).map((r) => r.data);
  const itemStates = async (ids: string[]) =>
    Object.fromEntries(
      (await system.database.sql<{ id: string; state: string }[]>`select id, state from inventory.items where id = any(${ids})`).map((r) => [r.id, r.state]),
    );

  /** Starts the return of a box delivered now, with the default timings. */
  const startReturn = (orderId: string, customerId: string) =>
    system.client.workflow.start<typeof returnWorkflow>('returnWorkflow', {
      workflowId: returnWorkflowId(orderId),
      taskQueue: RETURNS_TASK_QUEUE,
      args: [
        { event: envelope(`shipment:${orderId}:delivered`, 'shipment.delivered', orderId, { orderId, customerId, deliveredAt: new Date().toISOString() }) },
      ],
    });
  // The events other domains publish, as they publish them.
  const returnRequested = (orderId: string, customerId: string) =>
    envelope(`order:${orderId}:return-requested`, 'return.requested', orderId, { orderId, customerId, requestedBy: 'member' });
  const returnArrived = (orderId: string, customerId: string) =>
    envelope(`warehouse:${orderId}:return-arrived`, 'return.arrived', orderId, { orderId, customerId, instructionId: `ins_${orderId}` });
  const memberPurchase = (orderId: string, customerId: string, itemId: string) =>
    envelope(`order:${orderId}:purchase:${itemId}`, 'purchase.requested', orderId, { orderId, customerId, itemId, priceCents: 4100, reason: 'member' });
  const purchaseFailed = (orderId: string, customerId: string, itemId: string) =>
    envelope(`payment:purchase:${orderId}:${itemId}:failed`, 'payment.failed', orderId, {
      chargeKey: `purchase:${orderId}:${itemId}`,
      customerId,
      purpose: 'purchase',
      orderId,
      itemId,
      amountCents: 4100,
      reason: 'card declined',
      attempts: 4,
    });
  /** What saleWorkflow does on a captured purchase: the item is sold, item.sold follows. */
  async function sell(handle: Awaited<ReturnType<typeof startReturn>>, orderId: string, customerId: string, itemId: string) {
    await system.database.sql`update inventory.items set state = 'sold' where id = ${itemId}`;
    await handle.signal(
      eventSignal,
      envelope(`inventory:${orderId}:${itemId}:sold`, 'item.sold', orderId, { orderId, customerId, itemId, priceCents: 1, costCents: 1 }),
    );
  }

  const remindersOf = async (orderId: string) =>
    (await system.database.sql<{ offset: string }[]>`select "offset" from returns.reminders where order_id = ${orderId} order by sent_at, "offset"`).map(
      (r) => r.offset,
    );

  it('sends reminders before the deadline, then publishes return.overdue and a purchase.requested per unreturned item', async () => {
    const orderId = uniqueId('o');
    const customerId = uniqueId('c');
    const [a, b] = await itemsAtHome(orderId);
    const input: ReturnWorkflowInput = {
      event: envelope(`shipment:${orderId}:delivered`, 'shipment.delivered', orderId, { orderId, customerId, deliveredAt: new Date().toISOString() }),
      policy: { reminderOffsets: ['-3 days', '-1 day', '0 days', '+3 days'] },
    };
    const handle = await system.client.workflow.start<typeof returnWorkflow>('returnWorkflow', {
      workflowId: returnWorkflowId(orderId),
      taskQueue: RETURNS_TASK_QUEUE,
      args: [input],
    });

    await env.sleep('26 days');
    expect(await remindersOf(orderId)).toEqual([]);
    await env.sleep('36 hours'); // day 27.5
    expect(await remindersOf(orderId)).toEqual(['-3 days']);
    expect(await timelineTypes(system.database, orderId)).toEqual([]);
    await env.sleep('3 days'); // day 30.5: past the deadline
    expect(await remindersOf(orderId)).toEqual(['-3 days', '-1 day', '0 days']);

    const state = await handle.query(returnStateQuery);
    expect(state.phase).toBe('overdue');
    expect(state.remindersSent).toEqual(['-3 days', '-1 day', '0 days']);
    expect(await timelineTypes(system.database, orderId)).toEqual(['return.overdue', 'purchase.requested', 'purchase.requested']);
    expect(await eventData(orderId, 'return.overdue')).toEqual([
      { orderId, customerId, unreturnedItemIds: [a, b], reason: 'the rental window closed with no return requested' },
    ]);
    const purchases = await system.database.sql<{ id: string; data: Record<string, unknown> }[]>`
      select id, data from events.event_log where correlation_id = ${orderId} and type = 'purchase.requested' order by seq`;
    expect(purchases).toEqual([
      { id: `order:${orderId}:purchase:${a}`, data: { orderId, customerId, itemId: a, priceCents: 4100, reason: 'overdue' } },
      { id: `order:${orderId}:purchase:${b}`, data: { orderId, customerId, itemId: b, priceCents: 5200, reason: 'overdue' } },
    ]);
    // Reminders after the deadline are never sent: the box is being bought.
    await env.sleep('5 days');
    expect(await remindersOf(orderId)).toEqual(['-3 days', '-1 day', '0 days']);

    // Once both sales are in, the return completes with both items bought (and the items are sold).
    await system.database.sql`update inventory.items set state = 'sold' where id = any(${[a, b]})`;
    for (const itemId of [a, b]) {
      const sold = envelope(`inventory:${orderId}:${itemId}:sold`, 'item.sold', orderId, { orderId, customerId, itemId, priceCents: 1, costCents: 1 });
      await handle.signal(eventSignal, sold);
      await handle.signal(eventSignal, sold); // redelivered: processed once
    }
    await expect(handle.result()).resolves.toEqual({ restockedItemIds: [], retiredItemIds: [], purchasedItemIds: [a, b], lostItemIds: [] });
    expect(await timelineTypes(system.database, orderId)).toEqual(['return.overdue', 'purchase.requested', 'purchase.requested', 'return.completed']);
    const states = await system.database.sql<{ state: string }[]>`select state from inventory.items where id = any(${[a, b]})`;
    expect(states.map((s) => s.state)).toEqual(['sold', 'sold']);
  });

  it('sends no reminder and buys nothing when the member asks to return before the deadline', async () => {
    const orderId = uniqueId('o');
    const customerId = uniqueId('c');
    await itemsAtHome(orderId);
    const handle = await system.client.workflow.start<typeof returnWorkflow>('returnWorkflow', {
      workflowId: returnWorkflowId(orderId),
      taskQueue: RETURNS_TASK_QUEUE,
      args: [
        { event: envelope(`shipment:${orderId}:delivered`, 'shipment.delivered', orderId, { orderId, customerId, deliveredAt: new Date().toISOString() }) },
      ],
    });
    await env.sleep('20 days');
    await handle.signal(
      eventSignal,
      envelope(`order:${orderId}:return-requested`, 'return.requested', orderId, { orderId, customerId, requestedBy: 'member' }),
    );
    // Past the rental deadline, inside the 14-day arrival window of the requested return.
    await env.sleep('13 days');
    expect(await remindersOf(orderId)).toEqual([]);
    expect((await handle.query(returnStateQuery)).phase).toBe('return_requested');
    expect(await timelineTypes(system.database, orderId)).toEqual([]);
    await handle.terminate('test done');
  });

  it('treats a requested return that never arrives like an overdue box', async () => {
    const orderId = uniqueId('o');
    const customerId = uniqueId('c');
    const [a, b] = await itemsAtHome(orderId);
    const handle = await startReturn(orderId, customerId);
    await env.sleep('2 days');
    await handle.signal(eventSignal, returnRequested(orderId, customerId));
    await env.sleep('13 days');
    expect(await timelineTypes(system.database, orderId)).toEqual([]);
    expect((await handle.query(returnStateQuery)).phase).toBe('return_requested');

    await env.sleep('2 days'); // day 17: the 14-day arrival window of the day-2 request has passed
    expect((await handle.query(returnStateQuery)).phase).toBe('overdue');
    expect(await timelineTypes(system.database, orderId)).toEqual(['return.overdue', 'purchase.requested', 'purchase.requested']);
    expect(await eventData(orderId, 'return.overdue')).toEqual([
      { orderId, customerId, unreturnedItemIds: [a, b], reason: 'a return was requested but the box did not arrive within 14 days' },
    ]);
    expect((await eventData(orderId, 'purchase.requested')).map((d) => [d.itemId, d.reason])).toEqual([
      [a, 'overdue'],
      [b, 'overdue'],
    ]);
    // No reminder goes out for a box whose return was requested.
    expect(await remindersOf(orderId)).toEqual([]);
    await handle.terminate('test done');
  });

  it('restocks items inventory receives after inspection', async () => {
    const orderId = uniqueId('o');
    const customerId = uniqueId('c');
    const [clean, damaged] = await itemsAtHome(orderId, ['TOP-INSPECT', 'SKIRT-DAMAGED-INSPECT']);
    const handle = await startReturn(orderId, customerId);
    await env.sleep('3 days');
    await handle.signal(eventSignal, returnRequested(orderId, customerId));
    await env.sleep('2 days');
    await handle.signal(eventSignal, returnArrived(orderId, customerId));

    // Returns states the inspections; inventory's restock workflows move the items.
    await eventually(async () => ((await timelineTypes(system.database, orderId)).includes('item.retired') ? true : undefined), 20_000, 'item.retired');
    expect(await itemStates([clean, damaged])).toEqual({ [clean]: 'cleaning', [damaged]: 'retired' });
    expect(await eventData(orderId, 'item.inspected')).toEqual([
      { orderId, customerId, itemId: clean, outcome: 'clean' },
      { orderId, customerId, itemId: damaged, outcome: 'damaged' },
    ]);
    expect(await eventData(orderId, 'item.retired')).toEqual([{ orderId, customerId, itemId: damaged, reason: 'damaged on return' }]);
    expect((await handle.query(returnStateQuery)).phase).toBe('inspecting');

    await env.sleep('1 day'); // cleaning takes 2 days (INVENTORY_CLEANING_TIME)
    expect(await itemStates([clean])).toEqual({ [clean]: 'cleaning' });
    await expect(handle.result()).resolves.toEqual({ restockedItemIds: [clean], retiredItemIds: [damaged], purchasedItemIds: [], lostItemIds: [] });
    expect(await itemStates([clean, damaged])).toEqual({ [clean]: 'available', [damaged]: 'retired' });
    expect(await timelineTypes(system.database, orderId)).toEqual(['item.inspected', 'item.inspected', 'item.retired', 'item.restocked', 'return.completed']);
    const restock = await system.client.workflow.getHandle(`restock:${orderId}:${clean}`).result();
    expect(restock).toEqual({ itemId: clean, outcome: 'restocked' });
  });

  it('retires an item the member never sends back after its purchase failed', async () => {
    const orderId = uniqueId('o');
    const customerId = uniqueId('c');
    const [a, b] = await itemsAtHome(orderId);
    const handle = await startReturn(orderId, customerId);
    await env.sleep('31 days'); // overdue: both items put up for purchase
    expect(await timelineTypes(system.database, orderId)).toEqual(['return.overdue', 'purchase.requested', 'purchase.requested']);
    // a is paid for; b's card declines through dunning (day 42).
    await sell(handle, orderId, customerId, a);
    await env.sleep('11 days');
    await handle.signal(eventSignal, purchaseFailed(orderId, customerId, b));
    await env.sleep('13 days'); // day 55: inside the final bound (14 days after the failure)
    expect((await handle.query(returnStateQuery)).failedPurchaseItemIds).toEqual([b]);
    expect(await timelineTypes(system.database, orderId)).not.toContain('item.lost');
    expect(await itemStates([b])).toEqual({ [b]: 'shipped' });

    await expect(handle.result()).resolves.toEqual({ restockedItemIds: [], retiredItemIds: [], purchasedItemIds: [a], lostItemIds: [b] });
    expect(await itemStates([a, b])).toEqual({ [a]: 'sold', [b]: 'retired' });
    expect(await eventData(orderId, 'item.lost')).toEqual([
      { orderId, customerId, itemId: b, reason: 'not paid for, and the box did not come back within 14 days' },
    ]);
    expect(await eventData(orderId, 'item.retired')).toEqual([{ orderId, customerId, itemId: b, reason: 'lost' }]);
    expect(await timelineTypes(system.database, orderId)).toEqual([
      'return.overdue',
      'purchase.requested',
      'purchase.requested',
      'item.lost',
      'item.retired',
      'return.completed',
    ]);
  });

  it('declares lost at once an item the member kept when its purchase fails after the box came back', async () => {
    const orderId = uniqueId('o');
    const customerId = uniqueId('c');
    const [kept, returned] = await itemsAtHome(orderId);
    const handle = await startReturn(orderId, customerId);
    await env.sleep('2 days');
    await handle.signal(eventSignal, memberPurchase(orderId, customerId, kept));
    await handle.signal(eventSignal, returnRequested(orderId, customerId));
    await env.sleep('2 days');
    await handle.signal(eventSignal, returnArrived(orderId, customerId));
    // Only the item the member did not keep is in the box.
    await eventually(async () => ((await eventData(orderId, 'item.inspected')).length === 1 ? true : undefined), 20_000, 'one inspection');
    expect(await eventData(orderId, 'item.inspected')).toEqual([{ orderId, customerId, itemId: returned, outcome: 'clean' }]);

    await env.sleep('10 days');
    expect(await itemStates([kept, returned])).toEqual({ [kept]: 'shipped', [returned]: 'available' });
    await handle.signal(eventSignal, purchaseFailed(orderId, customerId, kept));
    await expect(handle.result()).resolves.toEqual({ restockedItemIds: [returned], retiredItemIds: [], purchasedItemIds: [], lostItemIds: [kept] });
    expect(await itemStates([kept, returned])).toEqual({ [kept]: 'retired', [returned]: 'available' });
    expect(await eventData(orderId, 'item.lost')).toEqual([
      { orderId, customerId, itemId: kept, reason: 'kept by the member, not paid for, and not in the returned box' },
    ]);
  });

  it('inspects an overdue box that comes back while its purchases are pending, and keeps what was paid for sold', async () => {
    const orderId = uniqueId('o');
    const customerId = uniqueId('c');
    const [paid, unpaid] = await itemsAtHome(orderId);
    const handle = await startReturn(orderId, customerId);
    await env.sleep('31 days'); // overdue: both put up for purchase
    await sell(handle, orderId, customerId, paid);
    await env.sleep('1 day');
    // The late box arrives with both items; the unpaid one waits for its purchase to end.
    await handle.signal(eventSignal, returnArrived(orderId, customerId));
    await env.sleep('1 day');
    expect(await eventData(orderId, 'item.inspected')).toEqual([]);
    expect((await handle.query(returnStateQuery)).phase).toBe('inspecting');
    expect(await itemStates([paid, unpaid])).toEqual({ [paid]: 'sold', [unpaid]: 'shipped' });

    // Its payment fails for good: it is in the box, so it is inspected and restocked like any returned item.
    await handle.signal(eventSignal, purchaseFailed(orderId, customerId, unpaid));
    await expect(handle.result()).resolves.toEqual({ restockedItemIds: [unpaid], retiredItemIds: [], purchasedItemIds: [paid], lostItemIds: [] });
    expect(await itemStates([paid, unpaid])).toEqual({ [paid]: 'sold', [unpaid]: 'available' });
    expect(await timelineTypes(system.database, orderId)).toEqual([
      'return.overdue',
      'purchase.requested',
      'purchase.requested',
      'item.inspected',
      'item.restocked',
      'return.completed',
    ]);
  });
});
