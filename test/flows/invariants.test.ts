/**
 * The system's invariants (docs/architecture.md, "Invariants") after a randomized (seeded) mix of
 * orders, express boxes, cancels, returns, purchases, declined cards and simulator faults — answers
 * lost after the call took effect included — on the real stack: every domain worker, the API on a
 * real port, the WMS and PSP simulators. "Once" is asserted by counting effects where they happen
 * (instructions the WMS accepted, captures and refunds at the PSP, workflow runs started), never by
 * rows a primary key already makes unique.
 */
import { createPspSimulator, type PspRunningServer, type PspSimulator } from '../../simulators/psp/server';
import { createWmsSimulator, type WmsRunningServer, type WmsSimulator } from '../../simulators/wms/server';
import { signUp, startListeningApi, TEST_WMS_SECRET, type ApiHarness } from '../api/harness';
import { eventually, startSystem, uniqueId, type RunningSystem } from '../support/system';

/** Small deterministic PRNG (mulberry32): the same seed replays the same mix. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 20261129;
const ORDERS = 8;

describe('invariants after a randomized mix', () => {
  let system: RunningSystem;
  let api: ApiHarness & { url: string };
  let wms: WmsRunningServer;
  let wmsSim: WmsSimulator;
  let psp: PspSimulator;
  let pspServer: PspRunningServer;

  beforeAll(async () => {
    process.env.RETURNS_CLEANING_TIME = '1 second';
    api = await startListeningApi();
    wmsSim = createWmsSimulator({
      callbackUrl: `${api.url}/v1/webhooks/wms`,
      webhookSecret: TEST_WMS_SECRET,
      seed: SEED,
      faults: { stepMs: 150, duplicateRate: 0.3, outOfOrderRate: 0.3, failureRate: 0.2, lostAnswerRate: 0.2 },
    });
    wms = await wmsSim.start(0);
    psp = createPspSimulator({ faults: { failureRate: 0.2, lostAnswerRate: 0.2 } });
    pspServer = await psp.start(0);
    system = await startSystem({ wmsUrl: wms.url, pspUrl: pspServer.url });
  });
  afterAll(async () => {
    await system?.stop();
    await wms?.close();
    await pspServer?.close();
    await api?.close();
    delete process.env.RETURNS_CLEANING_TIME;
  });

  async function call(method: string, url: string, body?: unknown, token?: string) {
    const res = await fetch(`${api.url}${url}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  }
  const orderStatus = async (orderId: string, token: string) => String((await call('GET', `/v1/orders/${orderId}`, undefined, token)).body.status);

  it('keeps every invariant after a randomized mix with lost answers', async () => {
    const random = prng(SEED);
    const { sql } = system.database;
    // Scarce stock in one size so orders race, hit shortages and sometimes give up.
    const marker = uniqueId('inv');
    const stock = ['dress', 'top'].flatMap((category) =>
      Array.from({ length: 4 }, (_, n) => ({
        id: `itm_${marker}_${category}_${n}`,
        sku: `${category}-${marker}`.toUpperCase(),
        category,
        size: 'XS',
        colour: 'black',
        purchase_price_cents: 4000 + n * 100,
      })),
    );
    await sql`insert into inventory.items ${sql(stock, 'id', 'sku', 'category', 'size', 'colour', 'purchase_price_cents')}`;

    // Members, some with cards that decline (their membership fee goes into dunning).
    const cards = ['tok_visa', 'tok_visa', 'tok_flaky', 'tok_decline'];
    const members = await Promise.all(
      Array.from({ length: ORDERS }, async () => {
        const card = cards[Math.floor(random() * cards.length)];
        const { token, customerId } = await signUp(api.url, { size: 'XS', preferredCategories: ['dress', 'top'], card: { token: card } });
        return { token, customerId };
      }),
    );
    const plans = members.map((m) => ({ ...m, action: ['cancel', 'return', 'buy-and-return', 'return'][Math.floor(random() * 4)] }));
    const orders = await Promise.all(
      plans.map(async (plan) => {
        const res = await call('POST', '/v1/orders', { itemCount: 2, shipping: random() < 0.5 ? 'express' : 'standard' }, plan.token);
        expect(res.status).toBe(202);
        return { ...plan, orderId: String(res.body.orderId) };
      }),
    );

    await Promise.all(
      orders.map(async (o) => {
        if (o.action === 'cancel') {
          const res = await call('POST', `/v1/orders/${o.orderId}/cancel`, { reason: 'randomized cancel' }, o.token);
          expect([200, 202, 409]).toContain(res.status);
        }
        const reached = await eventually(
          async () => {
            const s = await orderStatus(o.orderId, o.token);
            return ['delivered', 'cancelled', 'closed'].includes(s) ? s : undefined;
          },
          120_000,
          `order ${o.orderId} delivered or cancelled`,
        );
        if (reached !== 'delivered') return;
        if (o.action === 'buy-and-return') {
          const detail = (await call('GET', `/v1/orders/${o.orderId}`, undefined, o.token)).body;
          const itemId = (detail.itemIds as string[])[0];
          expect((await call('POST', `/v1/orders/${o.orderId}/items/${itemId}/purchase`, {}, o.token)).status).toBe(202);
          await eventually(
            async () => {
              const d = (await call('GET', `/v1/orders/${o.orderId}`, undefined, o.token)).body;
              return (d.purchasedItemIds as string[] | undefined)?.includes(itemId) ? true : undefined;
            },
            60_000,
            'purchase booked',
          );
        }
        expect((await call('POST', `/v1/orders/${o.orderId}/return`, {}, o.token)).status).toBe(202);
        await eventually(async () => ((await orderStatus(o.orderId, o.token)) === 'closed' ? true : undefined), 120_000, `order ${o.orderId} closed`);
      }),
    );
    const orderIds = orders.map((o) => o.orderId);

    // Items are conserved, each in exactly one state, none still held by a finished order.
    const items = await sql<
      { id: string; state: string; order_id: string | null }[]
    >`select id, state, order_id from inventory.items where id like ${`itm_${marker}_%`}`;
    expect(items).toHaveLength(stock.length);
    for (const item of items) expect(['available', 'cleaning', 'sold', 'retired']).toContain(item.state);

    // No item was ever reserved by two orders at once: a second box gets an item only after the
    // first box let go of it (released on cancel, or back through the return), and a sold item never again.
    const lifecycle = await sql<{ seq: number; type: string; correlation_id: string; data: { items?: { itemId: string }[] } }[]>`
      select seq::int as seq, type, correlation_id, data from events.event_log
       where correlation_id = any(${orderIds}) and type in ('inventory.reserved', 'inventory.released', 'return.completed') order by seq`;
    const holder = new Map<string, string>();
    for (const e of lifecycle) {
      if (e.type === 'inventory.reserved') {
        for (const { itemId } of e.data.items ?? []) {
          expect({ itemId, heldBy: holder.get(itemId) }).toEqual({ itemId, heldBy: undefined });
          holder.set(itemId, e.correlation_id);
        }
      } else {
        for (const [itemId, orderId] of holder) if (orderId === e.correlation_id) holder.delete(itemId);
      }
    }
    const sold = items.filter((i) => i.state === 'sold').map((i) => i.id);
    expect(sold.length).toBe(
      orders.filter((o) => o.action === 'buy-and-return').length -
        orders.filter((o) => o.action === 'buy-and-return' && !lifecycle.some((e) => e.type === 'inventory.reserved' && e.correlation_id === o.orderId)).length,
    );

    // Each charge key is captured at most once at the PSP, and a cancelled box's fee is not kept.
    const captures = new Map<string, number>();
    for (const c of psp.ledger) captures.set(c.metadata.chargeKey, (captures.get(c.metadata.chargeKey) ?? 0) + 1);
    for (const [chargeKey, count] of captures) expect({ chargeKey, count }).toEqual({ chargeKey, count: 1 });
    const cancelled = new Set(
      (await sql<{ id: string }[]>`select id from orders.orders where id = any(${orders.map((o) => o.orderId)}) and status = 'cancelled'`).map((r) => r.id),
    );
    for (const orderId of cancelled) {
      const fee = psp.ledger.filter((c) => c.metadata.chargeKey === `shipping:${orderId}`);
      const kept = await eventually(
        async () => {
          const sum = fee.reduce((total, c) => total + c.amountCents - (psp.charges.get(c.chargeId)?.refundedCents ?? 0), 0);
          return sum === 0 ? 0 : undefined;
        },
        60_000,
        `the fee of cancelled ${orderId} refunded`,
      ).catch(() => -1);
      expect({ orderId, kept }).toEqual({ orderId, kept: 0 });
    }
    for (const charge of psp.charges.values()) expect(charge.refundedCents).toBeLessThanOrEqual(charge.amountCents);

    // The WMS holds one live instruction per shipped box and none for a box cancelled before shipping.
    for (const o of orders) {
      const live = [...wmsSim.instructions.values()].filter((i) => i.orderId === o.orderId && i.status !== 'cancelled');
      const shipped = (await sql`select 1 from events.event_log where id = ${`shipment:${o.orderId}:shipped`}`).length > 0;
      expect({ orderId: o.orderId, shipped, instructions: live.length }).toEqual({ orderId: o.orderId, shipped, instructions: shipped ? 1 : 0 });
      expect([...wmsSim.instructions.values()].filter((i) => i.orderId === o.orderId).length).toBeLessThanOrEqual(1);
    }
    // A box cancelled before shipping: no return, and any shipment a callback started ended cancelled.
    for (const orderId of cancelled) {
      const runs = async (workflowId: string) => {
        const found: { status: string }[] = [];
        for await (const wf of system.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) found.push({ status: wf.status.name });
        return found;
      };
      expect({ orderId, returns: await runs(`return:${orderId}`) }).toEqual({ orderId, returns: [] });
      for (const run of await runs(`shipment:${orderId}`)) {
        expect(await system.client.workflow.getHandle(`shipment:${orderId}`).result()).toMatchObject({ outcome: 'cancelled' });
        expect(run.status).toBe('COMPLETED');
      }
    }
    // Every entity workflow an event starts ran once per box, however often its events were delivered.
    for (const orderId of orderIds) {
      for (const prefix of ['order', 'styling', 'reservation', 'wms', 'shipment', 'return']) {
        let count = 0;
        for await (const _ of system.client.workflow.list({ query: `WorkflowId = '${prefix}:${orderId}'` })) count += 1;
        expect({ workflowId: `${prefix}:${orderId}`, runs: Math.min(count, 2) }).toEqual({ workflowId: `${prefix}:${orderId}`, runs: Math.min(count, 1) });
      }
    }

    // The ledger balances per entry and in total, with one entry per source event.
    const unbalanced = await sql`select entry_id from accounting.journal_lines group by entry_id having sum(debit_cents) <> sum(credit_cents)`;
    expect(unbalanced).toEqual([]);
    const [totals] = await sql<
      { debit: string; credit: string }[]
    >`select coalesce(sum(debit_cents),0)::text as debit, coalesce(sum(credit_cents),0)::text as credit from accounting.journal_lines`;
    expect(totals.debit).toBe(totals.credit);
    // Every money event of these members has its journal entry (none dropped by a closed ledger).
    const customerIds = orders.map((o) => o.customerId);
    await eventually(
      async () => {
        const unbooked = await sql<{ id: string }[]>`
        select e.id from events.event_log e
         where e.type in ('payment.captured', 'payment.refunded', 'item.sold') and e.data->>'customerId' = any(${customerIds})
           and not (e.type = 'item.sold' and coalesce((e.data->>'costCents')::bigint, 0) = 0)
           and not exists (select 1 from accounting.journal_entries j where j.source_event_id = e.id)`;
        return unbooked.length === 0 ? true : undefined;
      },
      60_000,
      'every money event booked',
    );

    // No event lost: every event of these boxes reached each of its subscribers.
    const events = await sql<{ id: string; seq: number; type: string; correlation_id: string; causation_id: string | null; subscribers: string[] }[]>`
      select id, seq::int as seq, type, correlation_id, causation_id, subscribers from events.event_log where correlation_id = any(${orderIds}) order by seq`;
    await eventually(
      async () => {
        const [missing] = await sql<{ n: number }[]>`
        select count(*)::int as n from events.event_log e cross join lateral jsonb_array_elements_text(e.subscribers) s(name)
         where e.correlation_id = any(${orderIds}) and not exists (select 1 from events.deliveries d where d.event_id = e.id and d.subscriber = s.name)`;
        return missing.n === 0 ? true : undefined;
      },
      30_000,
      'every delivery recorded',
    );

    // No step out of order: causes come before effects; no instruction before reservation; no return before delivery.
    const seqOf = new Map(events.map((e) => [e.id, e.seq]));
    for (const e of events) if (e.causation_id && seqOf.has(e.causation_id)) expect(seqOf.get(e.causation_id)!).toBeLessThan(e.seq);
    for (const orderId of orderIds) {
      const types = events.filter((e) => e.correlation_id === orderId).map((e) => e.type);
      const first = (t: string) => types.indexOf(t);
      if (first('shipment.requested') >= 0) expect(first('inventory.reserved')).toBeLessThan(first('shipment.requested'));
      for (const t of ['return.requested', 'return.arrived', 'return.completed']) {
        if (first(t) >= 0) expect(first('shipment.delivered')).toBeLessThan(first(t));
      }
    }
    // The mix really exercised the flows it claims to.
    const allTypes = new Set(events.map((e) => e.type));
    expect([...allTypes]).toEqual(expect.arrayContaining(['order.cancelled', 'shipment.delivered', 'return.completed']));
  }, 300_000);
});
