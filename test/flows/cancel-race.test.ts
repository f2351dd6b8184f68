/**
 * A member's cancel racing the warehouse, with the real workers, dev server, PostgreSQL, the API
 * on a real port and the WMS simulator calling it back. The simulator's knobs make the race
 * deterministic: its callbacks are held back (the API answers 503, the simulator retries) so the
 * box has left the WMS while closetflow still sees it waiting, and an outage keeps the WMS from
 * answering a cancel.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { correctShippingAddress } from '../../store/orders/orders';
import { createWmsSimulator, type WmsRunningServer, type WmsSimulator } from '../../simulators/wms/server';
import { orderDetailQuery } from '../../workflows/orders/contract';
import { reservationWorkflowId } from '../../workflows/inventory/contract';
import { wmsInstructionWorkflowId } from '../../workflows/warehouse-integration/contract';
import { GOOD_ADDRESS, startOrder } from '../support/orders';
import { eventually, seedItems, startSystem, timelineTypes, type RunningSystem } from '../support/system';
import { signUp, testConfig, TEST_WMS_SECRET } from '../api/harness';
import { resetToFirstWorkflowTask } from '../support/temporal';

describe('a cancel racing the WMS', () => {
  let system: RunningSystem;
  let wms: WmsSimulator;
  let wmsServer: WmsRunningServer;
  let apiServer: http.Server;
  let app: ReturnType<typeof createApp> | undefined;
  /** While true the WMS's callbacks are refused (503) and the simulator keeps retrying them. */
  let holdCallbacks = false;

  beforeAll(async () => {
    apiServer = http.createServer((req, res) => {
      if (app && !(holdCallbacks && req.url?.startsWith('/v1/webhooks/wms'))) return app(req, res);
      res.statusCode = 503;
      res.end();
    });
    await new Promise<void>((resolve) => apiServer.listen(0, '127.0.0.1', resolve));
    const apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
    wms = createWmsSimulator({
      callbackUrl: `${apiUrl}/v1/webhooks/wms`,
      webhookSecret: TEST_WMS_SECRET,
      faults: { stepMs: 600_000 },
      callbackRetry: { initialDelayMs: 100, maxDelayMs: 300, maxAttempts: 1_000 },
    });
    wmsServer = await wms.start(0);
    system = await startSystem({ wmsUrl: wmsServer.url, domains: ['orders', 'styling', 'inventory', 'warehouse-integration', 'warehouse'] });
    app = createApp({ config: testConfig(), database: system.database, temporal: system.client, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await system?.stop();
    await wmsServer?.close();
    apiServer?.closeAllConnections();
    await new Promise((resolve) => apiServer?.close(resolve));
  });

  const orderRow = async (orderId: string) =>
    (await system.database.sql<{ status: string; status_reason: string | null }[]>`select status, status_reason from orders.orders where id = ${orderId}`)[0];
  const waitForStatus = (orderId: string, status: string, timeoutMs = 30_000) =>
    eventually(async () => ((await orderRow(orderId))?.status === status ? true : undefined), timeoutMs, status);
  const itemStates = async (orderId: string, itemIds: string[]) =>
    (
      await system.database.sql<
        { state: string; order_id: string | null }[]
      >`select state, order_id from inventory.items where id = any(${itemIds}) order by id`
    ).map((r) => [r.state, r.order_id === orderId]);
  const wmsInstruction = (orderId: string) => [...wms.instructions.values()].find((i) => i.orderId === orderId);

  async function boxAwaitingShipment(address = GOOD_ADDRESS) {
    const { size, itemIds } = await seedItems(system.database, ['dress'], 1);
    const member = await signUp(app!);
    const { input, handle } = await startOrder(system.client, { customerId: member.customerId, size, categories: ['dress'], itemCount: 1, address });
    return { member, orderId: input.orderId, handle, itemIds };
  }

  it('keeps the items reserved and ships the box when the cancel reaches the WMS too late', async () => {
    holdCallbacks = true;
    wms.faults.stepMs = 50;
    try {
      const { member, orderId, handle, itemIds } = await boxAwaitingShipment();
      await waitForStatus(orderId, 'awaiting_shipment');
      // The box has left the warehouse (and even arrived); closetflow has not heard of it yet.
      await eventually(async () => (wmsInstruction(orderId)?.status === 'delivered' ? true : undefined), 20_000, 'WMS delivered');
      expect((await orderRow(orderId)).status).toBe('awaiting_shipment');

      const res = await request(app!).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({ reason: 'changed my mind' }).expect(409);
      expect(res.body).toMatchObject({
        type: 'https://closetflow.dev/problems/order-not-cancellable',
        orderStatus: 'awaiting_shipment',
        cancelRejected: expect.stringContaining('already left'),
      });
      // Nothing was let go: the items are still held by the order, and the WMS kept the box.
      expect(await itemStates(orderId, itemIds)).toEqual([['reserved', true]]);
      expect(wmsInstruction(orderId)?.status).toBe('delivered');
      expect(await timelineTypes(system.database, orderId)).toEqual([
        'order.placed',
        'styling.completed',
        'inventory.reserved',
        'shipment.requested',
        'order.cancelled',
        'shipment.cancel_rejected',
      ]);
      expect((await orderRow(orderId)).status_reason).toMatch(/^cancel came too late: /);
      await expect(system.client.workflow.getHandle(wmsInstructionWorkflowId(orderId)).result()).resolves.toMatchObject({ outcome: 'handed-over' });

      // The callbacks get through: the order follows the box like any shipped box.
      holdCallbacks = false;
      await waitForStatus(orderId, 'delivered');
      expect((await timelineTypes(system.database, orderId)).slice(6, 8)).toEqual(['shipment.shipped', 'shipment.delivered']);
      expect(await itemStates(orderId, itemIds)).toEqual([['shipped', true]]);
      await expect(system.client.workflow.getHandle(reservationWorkflowId(orderId)).result()).resolves.toMatchObject({ outcome: 'shipped' });
      expect((await handle.query(orderDetailQuery)).cancelRejected).toMatch(/already left/);
      // A retried cancel gets the same truthful answer.
      await request(app!).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({ reason: 'changed my mind' }).expect(409);
    } finally {
      holdCallbacks = false;
      wms.faults.stepMs = 600_000;
    }
  });

  it('releases stock only after the WMS confirms the cancel', async () => {
    const { member, orderId, handle, itemIds } = await boxAwaitingShipment();
    await waitForStatus(orderId, 'awaiting_shipment');
    wms.faults.outageUntil = new Date(Date.now() + 10 * 60_000).toISOString();
    try {
      // The cancel is accepted but the WMS does not answer: the API says it is still in progress.
      const res = await request(app!).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({ reason: 'changed my mind' }).expect(202);
      expect(res.body).toMatchObject({ orderId, status: 'cancelling' });
      const wmsHandle = system.client.workflow.getHandle(wmsInstructionWorkflowId(orderId));
      await eventually(
        async () => {
          const pending = (await wmsHandle.describe()).raw.pendingActivities?.[0];
          return pending && pending.activityType?.name === 'cancelShippingInstruction' && (pending.attempt ?? 0) >= 2 ? true : undefined;
        },
        30_000,
        'cancel retrying through the outage',
      );
      // Until the WMS confirms, the box might still ship: the items stay held, the order is not cancelled.
      expect(await itemStates(orderId, itemIds)).toEqual([['reserved', true]]);
      expect(await orderRow(orderId)).toEqual({ status: 'awaiting_shipment', status_reason: 'cancelling: changed my mind' });
      expect(await timelineTypes(system.database, orderId)).not.toContain('shipment.cancelled');
    } finally {
      wms.faults.outageUntil = null;
    }
    await expect(handle.result()).resolves.toEqual({ status: 'cancelled', reason: 'changed my mind' });
    await expect(system.client.workflow.getHandle(reservationWorkflowId(orderId)).result()).resolves.toMatchObject({ outcome: 'released' });
    expect(await itemStates(orderId, itemIds)).toEqual([['available', false]]);
    expect(wmsInstruction(orderId)?.status).toBe('cancelled');
    expect(await timelineTypes(system.database, orderId)).toEqual([
      'order.placed',
      'styling.completed',
      'inventory.reserved',
      'shipment.requested',
      'order.cancelled',
      'shipment.cancelled',
      'inventory.released',
    ]);
    const [cancelled] = await system.database.sql<
      { data: { instructionCancelled: boolean } }[]
    >`select data from events.event_log where id = ${`wms:${orderId}:cancelled`}`;
    expect(cancelled.data.instructionCancelled).toBe(true);
  });

  it('cancels a box whose address the WMS refused, releasing its stock although the instruction workflow failed; a later reset ships nothing', async () => {
    const { member, orderId, handle, itemIds } = await boxAwaitingShipment({ ...GOOD_ADDRESS, line1: 'REJECT 2 Nowhere Lane' });
    await waitForStatus(orderId, 'address_rejected');
    expect(await itemStates(orderId, itemIds)).toEqual([['reserved', true]]);
    await request(app!).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({ reason: 'wrong address' }).expect(200, { orderId, status: 'cancelled' });
    await expect(handle.result()).resolves.toEqual({ status: 'cancelled', reason: 'wrong address' });
    await expect(system.client.workflow.getHandle(reservationWorkflowId(orderId)).result()).resolves.toMatchObject({ outcome: 'released' });
    expect(await itemStates(orderId, itemIds)).toEqual([['available', false]]);
    expect(await timelineTypes(system.database, orderId)).toEqual([
      'order.placed',
      'styling.completed',
      'inventory.reserved',
      'shipment.rejected',
      'order.cancelled',
      'shipment.cancelled',
      'inventory.released',
    ]);
    expect((await system.client.workflow.getHandle(wmsInstructionWorkflowId(orderId)).describe()).status.name).toBe('FAILED');

    // Ops, unaware of the cancel, correct the address and reset the failed instruction workflow:
    // the confirmed cancel stops the rerun before it sends anything.
    await correctShippingAddress(system.database.db, orderId, GOOD_ADDRESS);
    const runId = await resetToFirstWorkflowTask(system.client, wmsInstructionWorkflowId(orderId), 'test: address corrected after the cancel');
    const rerun = system.client.workflow.getHandle(wmsInstructionWorkflowId(orderId), runId);
    await expect(rerun.result()).rejects.toMatchObject({ cause: { cause: { type: 'ShipmentCancelled' } } });
    expect([...wms.instructions.values()].filter((i) => i.orderId === orderId)).toEqual([]);
    expect(await itemStates(orderId, itemIds)).toEqual([['available', false]]);
  });
});
