/**
 * Express shipping: a fee charged when the box is placed, refunded exactly once when the box is
 * cancelled, kept when it ships; and a charge still in flight or in dunning when the cancel comes.
 * Real workers, dev server, PostgreSQL, the PSP simulator and the API.
 */
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { savePaymentMethod } from '../../store/payment/payment-methods';
import { createPspSimulator, type PspRunningServer, type PspSimulator } from '../../simulators/psp/server';
import { eventSignal, type EventEnvelope } from '../../workflows/bus/contract';
import { OrderPlaced, orderDetailQuery, orderWorkflowId, type OrderPlacedData } from '../../workflows/orders/contract';
import { PAYMENT_TASK_QUEUE, chargeStateQuery, chargeWorkflowId, refundWorkflowId, shippingChargeKey } from '../../workflows/payment/contract';
import type { chargeWorkflow } from '../../workflows/payment/workflows';
import { ShipmentShipped } from '../../workflows/warehouse/contract';
import { ShipmentCancelled } from '../../workflows/warehouse-integration/contract';
import { GOOD_ADDRESS } from '../support/orders';
import { eventually, startSystem, timelineTypes, uniqueId, type RunningSystem } from '../support/system';
import { signUp, testConfig } from '../api/harness';

const FEE = 1500;

function envelope<D>(type: string, id: string, correlationId: string, data: D): EventEnvelope<D> {
  return {
    id,
    type,
    occurredAt: new Date().toISOString(),
    correlationId,
    causationId: null,
    source: { domain: 'orders', workflowId: 'test', runId: 'test' },
    data,
  };
}

describe('express shipping fees', () => {
  let system: RunningSystem;
  let psp: PspSimulator;
  let pspServer: PspRunningServer;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    psp = createPspSimulator({ slowMs: 3_000 });
    pspServer = await psp.start(0);
    // No styling worker: a placed box waits at `placed`, so a cancel always comes before shipment.
    system = await startSystem({ pspUrl: pspServer.url, domains: ['orders', 'inventory', 'warehouse-integration', 'payment', 'accounting'] });
    app = createApp({
      config: testConfig({ EXPRESS_SHIPPING_FEE_CENTS: String(FEE) }),
      database: system.database,
      temporal: system.client,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await system?.stop();
    await pspServer?.close();
  });

  const eventsOf = async (orderId: string, type: string) =>
    system.database.sql<
      { id: string; data: Record<string, unknown> }[]
    >`select id, data from events.event_log where correlation_id = ${orderId} and type = ${type} order by seq`;
  const capturesOf = (chargeKey: string) => psp.ledger.filter((c) => c.idempotencyKey.startsWith(`${chargeKey}:attempt-`));

  /** An express order's charge started the way the bus starts it, for a member with `card`. */
  async function startShippingCharge(card: string) {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    await savePaymentMethod(system.database.db, customerId, card);
    const data: OrderPlacedData = {
      orderId,
      customerId,
      size: 'M',
      categories: ['dress'],
      itemCount: 1,
      address: GOOD_ADDRESS,
      shipping: 'express',
      shippingFeeCents: FEE,
    };
    const handle = await system.client.workflow.start<typeof chargeWorkflow>('chargeWorkflow', {
      taskQueue: PAYMENT_TASK_QUEUE,
      workflowId: chargeWorkflowId(shippingChargeKey(orderId)),
      args: [{ event: envelope(OrderPlaced.type, `order:${orderId}:placed`, orderId, data) }],
    });
    /** Delivers the box's fate the way the bus does (by signal); `times` > 1 is a redelivery. */
    const deliver = async (type: string, times = 1) => {
      const event =
        type === ShipmentCancelled.type
          ? envelope(type, `wms:${orderId}:cancelled`, orderId, { orderId, customerId, reason: 'changed my mind', instructionCancelled: false })
          : envelope(type, `shipment:${orderId}:shipped`, orderId, { orderId, customerId, trackingNumber: 'TRK1', shippedAt: new Date().toISOString() });
      for (let i = 0; i < times; i++) await handle.signal(eventSignal, event);
    };
    return { customerId, orderId, chargeKey: shippingChargeKey(orderId), handle, deliver };
  }

  it('charges the fee when an express box is placed and refunds it once when the box is cancelled, booking both entries balanced', async () => {
    const member = await signUp(app);
    const placed = await request(app).post('/v1/orders').set(member.auth).send({ itemCount: 1, shipping: 'express' }).expect(202);
    const orderId: string = placed.body.orderId;
    const chargeKey = shippingChargeKey(orderId);
    await eventually(async () => ((await eventsOf(orderId, 'payment.captured')).length === 1 ? true : undefined), 30_000, 'fee captured');
    expect((await eventsOf(orderId, 'order.placed'))[0].data).toMatchObject({ shipping: 'express', shippingFeeCents: FEE });
    expect((await system.client.workflow.getHandle(orderWorkflowId(orderId)).query(orderDetailQuery)).shipping).toBe('express');

    await request(app).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({ reason: 'changed my mind' }).expect(200, { orderId, status: 'cancelled' });
    await expect(system.client.workflow.getHandle(chargeWorkflowId(chargeKey)).result()).resolves.toMatchObject({ status: 'refunded', attempts: 1 });
    await expect(system.client.workflow.getHandle(refundWorkflowId(chargeKey)).result()).resolves.toMatchObject({ outcome: 'refunded', amountCents: FEE });

    expect(await timelineTypes(system.database, orderId)).toEqual([
      'order.placed',
      'payment.captured',
      'order.cancelled',
      'shipment.cancelled',
      'payment.refunded',
    ]);
    const [captured] = capturesOf(chargeKey);
    expect(capturesOf(chargeKey)).toHaveLength(1);
    expect(psp.charges.get(captured.chargeId)).toMatchObject({ amountCents: FEE, refundedCents: FEE });
    const [charge] = await system.database.sql<
      { status: string; purpose: string }[]
    >`select status, purpose from payment.charges where charge_key = ${chargeKey}`;
    expect(charge).toEqual({ status: 'refunded', purpose: 'shipping' });

    // Accounting: the fee as shipping revenue, then its refund; each entry balanced.
    const lines = await eventually(
      async () => {
        const rows = await system.database.sql<{ source_event_type: string; account: string; debit: number; credit: number }[]>`
        select e.source_event_type, l.account, l.debit_cents::int as debit, l.credit_cents::int as credit
          from accounting.journal_entries e join accounting.journal_lines l on l.entry_id = e.id
         where e.charge_key = ${chargeKey} order by e.customer_seq, l.account`;
        return rows.length === 4 ? rows : undefined;
      },
      30_000,
      'capture and refund booked',
    );
    expect(lines).toEqual([
      { source_event_type: 'payment.captured', account: 'cash', debit: FEE, credit: 0 },
      { source_event_type: 'payment.captured', account: 'shipping_revenue', debit: 0, credit: FEE },
      { source_event_type: 'payment.refunded', account: 'cash', debit: 0, credit: FEE },
      { source_event_type: 'payment.refunded', account: 'refunds', debit: FEE, credit: 0 },
    ]);
  });

  it('charges nothing for standard shipping', async () => {
    const member = await signUp(app);
    const placed = await request(app).post('/v1/orders').set(member.auth).send({ itemCount: 1 }).expect(202);
    const orderId: string = placed.body.orderId;
    await eventually(async () => ((await eventsOf(orderId, 'order.placed')).length === 1 ? true : undefined));
    expect((await eventsOf(orderId, 'order.placed'))[0].data).not.toHaveProperty('shipping');
    const deliveries = await system.database.sql<
      { subscriber: string }[]
    >`select subscriber from events.deliveries where event_id = ${`order:${orderId}:placed`}`;
    expect(deliveries.map((d) => d.subscriber)).not.toContain('payment.charge-express-shipping');
    await system.client.workflow.getHandle(orderWorkflowId(orderId)).terminate('test done');
  });

  it('refunds once a fee whose capture was in flight when the box was cancelled', async () => {
    const { chargeKey, handle, deliver } = await startShippingCharge('tok_slow');
    // The PSP is still answering the first attempt when the cancel arrives, twice (a redelivery).
    await eventually(async () => ((await handle.describe()).raw.pendingActivities?.[0]?.state === 2 ? true : undefined), 10_000, 'attempt in flight');
    await deliver(ShipmentCancelled.type, 2);
    await expect(handle.result()).resolves.toMatchObject({ status: 'refunded', attempts: 1 });
    expect(capturesOf(chargeKey)).toHaveLength(1);
    expect(psp.charges.get(capturesOf(chargeKey)[0].chargeId)?.refundedCents).toBe(FEE);
    const refunds = await system.database.sql`select 1 from payment.refunds where charge_key = ${chargeKey}`;
    expect(refunds).toHaveLength(1);
  });

  it('stops charging a declined fee when the box is cancelled during dunning: nothing captured, nothing to refund', async () => {
    const { orderId, chargeKey, handle, deliver } = await startShippingCharge('tok_decline');
    await eventually(async () => ((await handle.query(chargeStateQuery)).status === 'dunning' ? true : undefined), 20_000, 'dunning');
    await deliver(ShipmentCancelled.type);
    await expect(handle.result()).resolves.toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(capturesOf(chargeKey)).toEqual([]);
    expect([...psp.requestsByKey.keys()].filter((k) => k.startsWith(chargeKey))).toEqual([`${chargeKey}:attempt-1`]);
    const failed = await eventsOf(orderId, 'payment.failed');
    expect(failed.map((e) => e.data)).toEqual([expect.objectContaining({ purpose: 'shipping', reason: 'order_cancelled', attempts: 1 })]);
    expect(await eventsOf(orderId, 'payment.refunded')).toEqual([]);
    await expect(system.client.workflow.getHandle(refundWorkflowId(chargeKey)).describe()).rejects.toThrow();
    const [charge] = await system.database.sql<{ status: string }[]>`select status from payment.charges where charge_key = ${chargeKey}`;
    expect(charge.status).toBe('failed');
  });

  it("announces refund.failed and ends, rather than failing, when the PSP refuses the refund of a cancelled box's fee", async () => {
    const { orderId, chargeKey, handle, deliver } = await startShippingCharge('tok_visa');
    await eventually(async () => ((await handle.query(chargeStateQuery)).status === 'captured' ? true : undefined), 20_000, 'captured');
    psp.faults.refuseRate = 1;
    try {
      await deliver(ShipmentCancelled.type);
      await expect(handle.result()).resolves.toMatchObject({ status: 'refund_failed', failureReason: expect.stringContaining('400') });
    } finally {
      psp.faults.refuseRate = 0;
    }
    await expect(system.client.workflow.getHandle(refundWorkflowId(chargeKey)).result()).resolves.toMatchObject({ outcome: 'refused' });
    const [failed] = await eventsOf(orderId, 'refund.failed');
    expect(failed).toMatchObject({
      id: `charge:${chargeKey}:refund-failed`,
      data: { chargeKey, purpose: 'shipping', amountCents: FEE, reason: expect.stringContaining('refused') },
    });
    expect(await eventsOf(orderId, 'payment.refunded')).toEqual([]);
  });

  it('keeps the fee when the box ships', async () => {
    const { orderId, chargeKey, handle, deliver } = await startShippingCharge('tok_visa');
    await eventually(async () => ((await handle.query(chargeStateQuery)).status === 'captured' ? true : undefined), 20_000, 'captured');
    await deliver(ShipmentShipped.type);
    await expect(handle.result()).resolves.toMatchObject({ status: 'captured' });
    expect(capturesOf(chargeKey)).toHaveLength(1);
    expect(await eventsOf(orderId, 'payment.refunded')).toEqual([]);
  });
});
