/** shipmentWorkflow: WMS callbacks in any order, any number of times, and the SLA timer. */
import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CustomerIdAttribute, OrderIdAttribute } from '../../workflows/search-attributes';
import { WAREHOUSE_TASK_QUEUE, shipmentStateQuery, shipmentWorkflowId, wmsCallbackSignal, type WmsCallbackSignal } from '../../workflows/warehouse/contract';
import type { shipmentWorkflow } from '../../workflows/warehouse/workflows';
import { createTimeSkippingEnv } from '../support/temporal';
import { startSystem, timelineTypes, uniqueId, type RunningSystem } from '../support/system';

const callback = (orderId: string, status: WmsCallbackSignal['status'], extra: Partial<WmsCallbackSignal> = {}): WmsCallbackSignal => ({
  callbackId: `wms_test:${orderId}:${status}`,
  instructionId: `wms_test_${orderId}`,
  orderId,
  customerId: 'c_test',
  status,
  occurredAt: new Date().toISOString(),
  ...(status === 'shipped' || status === 'delivered' ? { trackingNumber: `TRK-${orderId}` } : {}),
  ...extra,
});

/** Starts (or signals) a shipment the way the webhook endpoint does: signal-with-start. */
async function sendCallback(system: RunningSystem, cb: WmsCallbackSignal, searchAttributes = true) {
  return system.client.workflow.signalWithStart<typeof shipmentWorkflow, [WmsCallbackSignal]>('shipmentWorkflow', {
    workflowId: shipmentWorkflowId(cb.orderId),
    taskQueue: WAREHOUSE_TASK_QUEUE,
    args: [{ orderId: cb.orderId, customerId: cb.customerId }],
    signal: wmsCallbackSignal,
    signalArgs: [cb],
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    // The time-skipping test server has no custom search attributes registered.
    ...(searchAttributes
      ? {
          typedSearchAttributes: [
            { key: OrderIdAttribute, value: cb.orderId },
            { key: CustomerIdAttribute, value: cb.customerId },
          ],
        }
      : {}),
  });
}

describe('shipmentWorkflow on the dev server', () => {
  let system: RunningSystem;
  beforeAll(async () => {
    system = await startSystem({ domains: ['warehouse'] });
  });
  afterAll(async () => system?.stop());

  it('ignores duplicate callbacks and publishes each milestone once', async () => {
    const orderId = uniqueId('o');
    for (const status of ['picked', 'picked', 'packed', 'shipped', 'shipped', 'packed'] as const) await sendCallback(system, callback(orderId, status));
    const handle = await sendCallback(system, callback(orderId, 'delivered'));
    await expect(handle.result()).resolves.toEqual({ milestone: 'delivered', outcome: 'delivered' });
    expect(await timelineTypes(system.database, orderId)).toEqual(['shipment.shipped', 'shipment.delivered']);
    const [row] = await system.database.sql<
      { status: string; tracking_number: string }[]
    >`select status, tracking_number from warehouse.shipments where order_id = ${orderId}`;
    expect(row).toEqual({ status: 'delivered', tracking_number: `TRK-${orderId}` });
  });

  it('publishes shipped before delivered when the delivered callback arrives first', async () => {
    const orderId = uniqueId('o');
    const handle = await sendCallback(system, callback(orderId, 'delivered'));
    await expect(handle.result()).resolves.toMatchObject({ outcome: 'delivered' });
    expect(await timelineTypes(system.database, orderId)).toEqual(['shipment.shipped', 'shipment.delivered']);
  });

  it('counts stale callbacks that arrive after a later milestone as ignored', async () => {
    const orderId = uniqueId('o');
    const handle = await sendCallback(system, callback(orderId, 'packed'));
    await sendCallback(system, callback(orderId, 'picked'));
    await sendCallback(system, callback(orderId, 'packed'));
    const state = await handle.query(shipmentStateQuery);
    expect(state).toMatchObject({ milestone: 'packed', callbacksApplied: 1, callbacksIgnored: 2 });
    await handle.terminate('test done');
  });

  it('refuses to restart a delivered shipment when a late callback arrives', async () => {
    const orderId = uniqueId('o');
    const handle = await sendCallback(system, callback(orderId, 'delivered'));
    await handle.result();
    await expect(sendCallback(system, callback(orderId, 'delivered', { callbackId: 'late-duplicate' }))).rejects.toThrow(/already started/i);
  });
});

describe('shipmentWorkflow SLA (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let system: RunningSystem;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    system = await startSystem({ env, domains: ['warehouse'] });
  });
  afterAll(async () => {
    await system?.stop();
    await env?.teardown();
  });

  it('publishes shipment.delayed once when the box has not shipped within two days, then still completes', async () => {
    const orderId = uniqueId('o');
    const handle = await sendCallback(system, callback(orderId, 'picked'), false);
    await env.sleep('3 days');
    expect((await handle.query(shipmentStateQuery)).delayed).toBe(true);
    await sendCallback(system, callback(orderId, 'shipped'), false);
    await sendCallback(system, callback(orderId, 'delivered'), false);
    await handle.result();
    expect(await timelineTypes(system.database, orderId)).toEqual(['shipment.delayed', 'shipment.shipped', 'shipment.delivered']);
  });
});
