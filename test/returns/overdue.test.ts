/**
 * The 30-day rental window on the time-skipping test server: reminders at their offsets (once
 * each), then at the deadline return.overdue and purchase.requested for every unreturned item.
 * The test server has no custom search attributes, so the workflow is started without them (its
 * children copy the empty set).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadRegistry } from '../../activities/bus/registry';
import { eventSignal, type EventEnvelope } from '../../workflows/bus/contract';
import { RETURNS_TASK_QUEUE, returnStateQuery, returnWorkflowId, type ReturnWorkflowInput } from '../../workflows/returns/contract';
import type { returnWorkflow } from '../../workflows/returns/workflows';
import { createTimeSkippingEnv } from '../support/temporal';
import { startSystem, timelineTypes, uniqueId, type RunningSystem } from '../support/system';

describe('an overdue box (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let system: RunningSystem;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    // Only the returns domain listens here: a charge started on the (unpolled) payment queue would
    // hold the test server's clock still.
    const full = loadRegistry();
    system = await startSystem({ env, domains: ['events', 'inventory', 'returns'], registry: { events: full.events, subscriptions: full.subscriptions.filter((s) => s.domain === 'returns') } });
  });
  afterAll(async () => {
    await system?.stop();
    await env?.teardown();
  });

  /** Two items out with the member for a fresh order (moved along the legal path). */
  async function itemsAtHome(orderId: string): Promise<string[]> {
    const size = uniqueId('T');
    const ids = [`itm_${size}_a`, `itm_${size}_b`];
    await system.database.sql`insert into inventory.items (id, sku, category, size, colour, purchase_price_cents) values
      (${ids[0]}, 'TOP-OVERDUE', 'top', ${size}, 'black', 4100), (${ids[1]}, 'SKIRT-OVERDUE', 'skirt', ${size}, 'navy', 5200)`;
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

  const remindersOf = async (orderId: string) =>
    (await system.database.sql<{ offset: string }[]>`select "offset" from returns.reminders where order_id = ${orderId} order by sent_at, "offset"`).map((r) => r.offset);

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
    await expect(handle.result()).resolves.toEqual({ restockedItemIds: [], retiredItemIds: [], purchasedItemIds: [a, b] });
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
      args: [{ event: envelope(`shipment:${orderId}:delivered`, 'shipment.delivered', orderId, { orderId, customerId, deliveredAt: new Date().toISOString() }) }],
    });
    await env.sleep('10 days');
    await handle.signal(eventSignal, envelope(`order:${orderId}:return-requested`, 'return.requested', orderId, { orderId, customerId, requestedBy: 'member' }));
    await env.sleep('40 days');
    expect(await remindersOf(orderId)).toEqual([]);
    expect((await handle.query(returnStateQuery)).phase).toBe('return_requested');
    expect(await timelineTypes(system.database, orderId)).toEqual([]);
    await handle.terminate('test done');
  });
});
