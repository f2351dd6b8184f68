/** ledgerWorkflow on the dev server: causal order, one entry per event, balance, continue-as-new. */
import { ledgerStateQuery, type ledgerWorkflow } from '../../workflows/accounting/workflows';
import { ACCOUNTING_TASK_QUEUE, ledgerWorkflowId, type LedgerState } from '../../workflows/accounting/contract';
import { eventSignal, type EventEnvelope } from '../../workflows/bus/contract';
import { eventually, startSystem, uniqueId, type RunningSystem } from '../support/system';
import { entriesOf, itemSold, membershipCaptured, purchaseCaptured, refunded } from './support';

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ domains: ['accounting'] });
});
afterAll(async () => system?.stop());

/** Starts the customer's ledger with its first event the way the bus does, then signals the others. */
async function deliver(customerId: string, events: EventEnvelope[], eventsPerRun?: number) {
  const [first, ...rest] = events;
  const handle = await system.client.workflow.start<typeof ledgerWorkflow>('ledgerWorkflow', {
    workflowId: ledgerWorkflowId(customerId),
    taskQueue: ACCOUNTING_TASK_QUEUE,
    args: [{ event: first, eventsPerRun }],
  });
  for (const e of rest) await handle.signal(eventSignal, e);
  return handle;
}
const stateOf = async (customerId: string): Promise<LedgerState> => system.client.workflow.getHandle(ledgerWorkflowId(customerId)).query(ledgerStateQuery);
const untilApplied = (customerId: string, n: number) =>
  eventually(async () => ((await stateOf(customerId)).applied >= n ? true : undefined), 30_000, `${n} events applied for ${customerId}`);

describe('ledgerWorkflow', () => {
  test('one entry per source event: a redelivered event posts nothing more', async () => {
    const customerId = uniqueId('c');
    const capture = membershipCaptured(customerId, '2026-05');
    const handle = await deliver(customerId, [capture, capture]);
    await untilApplied(customerId, 1);
    await handle.signal(eventSignal, capture);
    const sold = itemSold({ orderId: uniqueId('o'), customerId, itemId: 'itm_1', priceCents: 5000, costCents: 2000 });
    await handle.signal(eventSignal, sold);
    await untilApplied(customerId, 2);
    const entries = await entriesOf(system.database, customerId);
    expect(entries.map((e) => e.source_event_id)).toEqual([capture.id, sold.id]);
    expect((await stateOf(customerId)).applied).toBe(2);
    await handle.terminate('test done');
  });

  test('a refund delivered before its capture posts after the capture', async () => {
    const customerId = uniqueId('c');
    const capture = purchaseCaptured(customerId, uniqueId('o'), 'itm_9', 7500);
    const refund = refunded(capture);
    const handle = await deliver(customerId, [refund]);
    await eventually(async () => ((await stateOf(customerId)).heldRefunds.includes(capture.data.chargeKey) ? true : undefined), 30_000, 'refund held');
    expect(await entriesOf(system.database, customerId)).toEqual([]);

    await handle.signal(eventSignal, capture);
    await untilApplied(customerId, 2);
    const entries = await entriesOf(system.database, customerId);
    expect(entries.map((e) => [e.customer_seq, e.source_event_id])).toEqual([
      [1, capture.id],
      [2, refund.id],
    ]);
    expect((await stateOf(customerId)).heldRefunds).toEqual([]);
    await handle.terminate('test done');
  });

  test('the ledger balances per entry and in total after a mix of events', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    const membership = membershipCaptured(customerId, '2026-06', 4900);
    const purchaseA = purchaseCaptured(customerId, orderId, 'itm_a', 6000);
    const purchaseB = purchaseCaptured(customerId, orderId, 'itm_b', 3500);
    const events = [
      membership,
      purchaseA,
      itemSold({ orderId, customerId, itemId: 'itm_a', priceCents: 6000, costCents: 2500 }),
      refunded(purchaseB), // before its capture
      purchaseB,
      itemSold({ orderId, customerId, itemId: 'itm_b', priceCents: 3500, costCents: 1200 }),
    ];
    const handle = await deliver(customerId, events);
    await untilApplied(customerId, events.length);

    const entries = await entriesOf(system.database, customerId);
    expect(entries).toHaveLength(events.length);
    for (const e of entries) expect(e.debit).toBe(e.credit);
    expect(entries.map((e) => e.customer_seq)).toEqual([1, 2, 3, 4, 5, 6]);
    // The refund of B posted right after B's capture.
    const order = entries.map((e) => e.source_event_id);
    expect(order.indexOf(refunded(purchaseB).id)).toBe(order.indexOf(purchaseB.id) + 1);

    const balances = await system.database.sql<{ account: string; net: number }[]>`
      select l.account, (sum(l.debit_cents) - sum(l.credit_cents))::int as net
      from accounting.journal_lines l join accounting.journal_entries e on e.id = l.entry_id
      where e.customer_id = ${customerId} group by l.account order by l.account`;
    expect(Object.fromEntries(balances.map((b) => [b.account, b.net]))).toEqual({
      cash: 4900 + 6000 + 3500 - 3500,
      membership_revenue: -4900,
      sales_revenue: -(6000 + 3500),
      refunds: 3500,
      cost_of_goods_sold: 2500 + 1200,
      inventory: -(2500 + 1200),
    });
    expect(balances.reduce((s, b) => s + b.net, 0)).toBe(0);
    await handle.terminate('test done');
  });

  test('ledgerWorkflow continues as new after many events, carrying what it has not applied', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    const events = Array.from({ length: 12 }, (_, i) => purchaseCaptured(customerId, orderId, `itm_${i}`, 1000 + i));
    // A refund held across runs: delivered early, its capture last.
    const late = purchaseCaptured(customerId, orderId, 'itm_late', 999);
    const handle = await deliver(customerId, [...events.slice(0, 2), refunded(late), ...events.slice(2), late], 5);
    const firstRunId = handle.firstExecutionRunId;
    await untilApplied(customerId, 14);
    const state = await stateOf(customerId);
    expect(state.run).toBeGreaterThanOrEqual(3);
    expect(state.heldRefunds).toEqual([]);
    const first = await system.client.workflow.getHandle(ledgerWorkflowId(customerId), firstRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    const entries = await entriesOf(system.database, customerId);
    expect(entries).toHaveLength(14);
    expect(entries.map((e) => e.customer_seq)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    await system.client.workflow.getHandle(ledgerWorkflowId(customerId)).terminate('test done');
  });

  test('loses and repeats nothing when events arrive during its hand-overs (continue-as-new every 3 events)', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    const events = Array.from({ length: 30 }, (_, i) => purchaseCaptured(customerId, orderId, `itm_${i}`, 100 + i));
    const handle = await deliver(customerId, [events[0]!], 3);
    // Bursts of concurrent signals, each event twice (a redelivery): they land on running runs, on
    // runs closing (their completion is refused and retried with the signal) and on fresh ones.
    // Each burst goes out once the previous one is nearly applied, so it meets a run about to hand over.
    for (let i = 1; i < events.length; i += 5) {
      await untilApplied(customerId, Math.max(1, i - 2));
      const burst = events.slice(i, i + 5);
      await Promise.all([...burst, ...burst].map((e) => handle.signal(eventSignal, e)));
    }
    // Early events redelivered runs later: only the dedupe ids carried across runs recognise them.
    await eventually(async () => ((await stateOf(customerId)).run >= 6 ? true : undefined), 60_000, 'six runs');
    await Promise.all(events.slice(0, 5).map((e) => handle.signal(eventSignal, e)));
    await eventually(
      async () => {
        const state = await stateOf(customerId);
        return state.applied >= events.length && state.queued === 0 ? true : undefined;
      },
      60_000,
      'every event applied',
    );
    await new Promise((r) => setTimeout(r, 1000));
    const state = await stateOf(customerId);
    // Each event applied once (a redelivery that slipped through would count again; posting is
    // idempotent, so the entries alone could not tell), over many runs.
    expect(state.applied).toBe(events.length);
    expect(state.run).toBeGreaterThanOrEqual(10);
    const entries = await entriesOf(system.database, customerId);
    expect(entries.map((e) => e.source_event_id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(entries.map((e) => e.customer_seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    await system.client.workflow.getHandle(ledgerWorkflowId(customerId)).terminate('test done');
  });
});
