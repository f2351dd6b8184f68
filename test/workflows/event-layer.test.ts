/** The event layer's delivery guarantees, observed on real workflows. */
import Long from 'long';
import { eventSignal, type EventEnvelope } from '../../workflows/bus/contract';
import { orderDetailQuery, orderWorkflowId, cancelOrderUpdate } from '../../workflows/orders/contract';
import type { StylingCompletedData } from '../../workflows/styling/contract';
import { startOrder } from '../support/orders';
import { eventually, startSystem, type RunningSystem } from '../support/system';

describe('event delivery', () => {
  let system: RunningSystem;
  beforeAll(async () => {
    // Warehouse integration answers each cancel (shipment.cancelled: nothing was ever sent).
    system = await startSystem({ domains: ['events', 'orders', 'warehouse-integration'] });
  });
  afterAll(async () => system?.stop());

  const styled = (orderId: string, customerId: string): EventEnvelope<StylingCompletedData> => ({
    id: `styling:${orderId}:completed:1`,
    type: 'styling.completed',
    occurredAt: new Date().toISOString(),
    correlationId: orderId,
    causationId: `order:${orderId}:placed`,
    source: { domain: 'styling', workflowId: `styling:${orderId}`, runId: 'test' },
    data: { orderId, customerId, attempt: 1, items: [{ itemId: 'itm_1', sku: 'SKU', category: 'dress', size: 'M', colour: 'red' }] },
  });

  it('processes an event delivered twice only once', async () => {
    const { input, handle } = await startOrder(system.client, { size: 'DEDUPE' });
    const event = styled(input.orderId, input.customerId);
    await handle.signal(eventSignal, event);
    await handle.signal(eventSignal, event);
    await eventually(async () => ((await handle.query(orderDetailQuery)).status === 'styled' ? true : undefined));
    await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'done' }] });
    const history = await handle.fetchHistory();
    const statusWrites = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'recordOrderStatus');
    // placed, styled, cancelling, cancelled: the duplicate wrote nothing.
    expect(statusWrites).toHaveLength(4);
  });

  it('does not start a finished entity again when a late event arrives', async () => {
    const { input, handle } = await startOrder(system.client, { size: 'LATE' });
    await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'early' }] });
    await handle.result();
    // The styling child started by order.placed has no worker here; its stop-on-cancel delivery was a signal.
    const deliveries = await system.database.sql<{ subscriber: string; outcome: string }[]>`
      select subscriber, outcome from events.deliveries where event_id = ${`order:${input.orderId}:placed`} order by subscriber`;
    expect(deliveries).toEqual([{ subscriber: 'styling.style-placed-order', outcome: 'started' }]);

    // A late event for the closed order: signalling fails, nothing restarts the order.
    await expect(system.client.workflow.getHandle(orderWorkflowId(input.orderId)).signal(eventSignal, styled(input.orderId, input.customerId))).rejects.toThrow(/not found|completed/i);
    const runs = [];
    for await (const wf of system.client.workflow.list({ query: `WorkflowId = '${orderWorkflowId(input.orderId)}'` })) runs.push(wf);
    expect(runs).toHaveLength(1);
  });

  it('keeps one event log row per event id even when the publisher runs again', async () => {
    const { input, handle } = await startOrder(system.client, { size: 'RESET' });
    await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'reset me' }] });
    await handle.result();
    const firstRunId = (await handle.describe()).runId;
    const { runId } = (await system.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: handle.workflowId },
      workflowTaskFinishEventId: Long.fromNumber(3),
      reason: 'test: re-run the publisher',
      requestId: `reset-${input.orderId}`,
    })) as { runId?: string | null };
    // The reset run publishes order.placed again and the server reapplies the cancel to it.
    const rerun = system.client.workflow.getHandle(handle.workflowId, runId!);
    await expect(rerun.result()).resolves.toMatchObject({ status: 'cancelled' });
    expect(runId).not.toBe(firstRunId);
    const rows = await system.database.sql<{ id: string }[]>`select id from events.event_log where correlation_id = ${input.orderId} order by seq`;
    expect(rows.map((r) => r.id)).toEqual([`order:${input.orderId}:placed`, `order:${input.orderId}:cancelled`, `wms:${input.orderId}:cancelled`]);
  });
});
