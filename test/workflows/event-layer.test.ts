/** The event layer's delivery guarantees, observed on real workflows. */
import { MockActivityEnvironment } from '@temporalio/testing';
import Long from 'long';
import { createBusActivities } from '../../activities/bus';
import { eventSignal, type DeliverEventResult, type Delivery, type EventEnvelope, type RecordEventResult } from '../../workflows/bus/contract';
import { orderDetailQuery, cancelOrderUpdate } from '../../workflows/orders/contract';
import { CustomerIdAttribute } from '../../workflows/search-attributes';
import type { StylingCompletedData } from '../../workflows/styling/contract';
import { startOrder } from '../support/orders';
import { eventually, startSystem, uniqueId, type RunningSystem } from '../support/system';
import { TestPing, reopeningEntityId, testEntityId, type EventToPublish, type TestPingData } from '../support/test-events';
import { activityCalls } from '../support/history';
import { publishThroughWorkflow, registryWithTestEvents, startTestWorkflowsWorker, type TestWorkflowsWorker } from '../support/test-workers';

describe('event delivery', () => {
  let system: RunningSystem;
  let testWorkflows: TestWorkflowsWorker;
  const registry = registryWithTestEvents();
  beforeAll(async () => {
    // Warehouse integration answers each cancel (shipment.cancelled: nothing was ever sent). The
    // bus also knows test.ping, which test workflows publish and an entity test workflow receives.
    system = await startSystem({ domains: ['orders', 'warehouse-integration'], registry });
    testWorkflows = await startTestWorkflowsWorker(system.env, { registry });
  });
  afterAll(async () => {
    await testWorkflows?.stop();
    await system?.stop();
  });

  const ping = (entityId: string, n: number, action: TestPingData['action'], reopen = false): EventToPublish => ({
    type: TestPing.type,
    id: `test:${entityId}:ping:${n}`,
    data: { entityId, action, reopen } satisfies TestPingData,
    correlationId: entityId,
  });
  /** Publishes through the real `publish` of a workflow; resolves once every delivery is made. */
  const publishPings = (...events: EventToPublish[]) => publishThroughWorkflow(system.env, events, { workflowId: uniqueId('test-publisher') });
  const runsOf = async (workflowId: string) => {
    const runs = [];
    for await (const wf of system.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: wf.runId, status: wf.status.name });
    return runs;
  };
  const deliveryOf = async (eventId: string) =>
    system.database.sql<
      { subscriber: string; outcome: string; detail: string | null }[]
    >`select subscriber, outcome, detail from events.deliveries where event_id = ${eventId}`;
  const settled = async (workflowId: string) => {
    await system.client.workflow
      .getHandle(workflowId)
      .result()
      .catch(() => undefined);
    return (await system.client.workflow.getHandle(workflowId).describe()).status.name;
  };

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
    // placed, styled, cancelling, cancelled: the duplicate wrote nothing.
    expect(activityCalls(history.events ?? [], 'recordOrderStatus')).toBe(4);
  });

  it('does not start a finished entity again when a late event arrives', async () => {
    // A start subscription's entity that completed, and one that failed.
    const completed = uniqueId('ent');
    const failed = uniqueId('ent');
    await publishPings(ping(completed, 1, 'complete'), ping(failed, 1, 'fail'));
    expect(await settled(testEntityId(completed))).toBe('COMPLETED');
    expect(await settled(testEntityId(failed))).toBe('FAILED');

    // Late events through publish: the child start is refused (REJECT_DUPLICATE), the signal finds
    // no running workflow, the delivery is recorded rejected, and no entity runs again.
    const [lateForCompleted, lateForFailed] = await publishPings(ping(completed, 2, 'wait'), ping(failed, 2, 'wait'));
    for (const [entity, late] of [
      [completed, lateForCompleted],
      [failed, lateForFailed],
    ] as const) {
      expect(await deliveryOf(late.id)).toEqual([{ subscriber: 'test.ping-entity', outcome: 'rejected', detail: 'workflow not running' }]);
      expect(await runsOf(testEntityId(entity))).toHaveLength(1);
    }
  });

  it('starts a new run of a failed or terminated entity when its subscription reopens, but never of a completed one', async () => {
    const failed = uniqueId('ent');
    const terminated = uniqueId('ent');
    const completed = uniqueId('ent');
    await publishPings(ping(failed, 1, 'fail', true), ping(terminated, 1, 'wait', true), ping(completed, 1, 'complete', true));
    expect(await settled(reopeningEntityId(failed))).toBe('FAILED');
    expect(await settled(reopeningEntityId(completed))).toBe('COMPLETED');
    const terminatedRun = await system.client.workflow.getHandle(reopeningEntityId(terminated)).describe();
    await system.client.workflow.getHandle(reopeningEntityId(terminated)).terminate('test: the entity goes away holding nothing');

    const late = await publishPings(ping(failed, 2, 'complete', true), ping(terminated, 2, 'complete', true), ping(completed, 2, 'complete', true));
    // The failed and the terminated entity run again, started by the late event (ALLOW_DUPLICATE_FAILED_ONLY).
    for (const [entity, event] of [
      [failed, late[0]],
      [terminated, late[1]],
    ] as const) {
      expect(await deliveryOf(event.id)).toEqual([{ subscriber: 'test.ping-reopening-entity', outcome: 'started', detail: null }]);
      const handle = system.client.workflow.getHandle(reopeningEntityId(entity));
      await expect(handle.result()).resolves.toEqual({ received: [event.id] });
      const runs = await eventually(
        async () => {
          const found = await runsOf(reopeningEntityId(entity));
          return found.length === 2 ? found : undefined;
        },
        10_000,
        `two runs of ${reopeningEntityId(entity)}`,
      );
      expect(runs.map((r) => r.status).sort()).toEqual(['COMPLETED', entity === failed ? 'FAILED' : 'TERMINATED']);
    }
    expect((await runsOf(reopeningEntityId(terminated))).map((r) => r.runId)).toContain(terminatedRun.runId);
    // A completed entity is finished for good, reopen or not.
    expect(await deliveryOf(late[2].id)).toEqual([{ subscriber: 'test.ping-reopening-entity', outcome: 'rejected', detail: 'workflow completed' }]);
    expect(await runsOf(reopeningEntityId(completed))).toHaveLength(1);
  });

  it('signal-with-starts a reopen delivery whose entity closed between the start attempt and the signal', async () => {
    // The bus's own activities, driven as a publisher drives them, with the entity terminated in
    // the gap between the publisher's refused child start and the bus's signal.
    const bus = createBusActivities({ db: system.database.db, client: system.client, registry });
    const activity = new MockActivityEnvironment();
    const entity = uniqueId('ent');
    await publishPings(ping(entity, 1, 'wait', true));
    await system.client.workflow.getHandle(reopeningEntityId(entity)).terminate('test: closed after the start attempt');

    const deliver = async (event: EventEnvelope) => {
      const { deliveries } = (await activity.run(bus.recordEvent, { event })) as RecordEventResult;
      expect(deliveries).toEqual([expect.objectContaining({ subscriber: 'test.ping-reopening-entity', start: true, reopen: true })]);
      return (await activity.run(bus.deliverEvent, {
        event,
        started: [],
        signals: deliveries as Delivery[],
        searchAttributes: { CustomerId: 'c_test' },
      })) as DeliverEventResult;
    };
    const envelope = (e: EventToPublish): EventEnvelope => ({
      ...e,
      occurredAt: new Date().toISOString(),
      causationId: null,
      source: { domain: 'events', workflowId: 'test', runId: 'test' },
    });

    const second = envelope(ping(entity, 2, 'complete', true));
    const { outcomes } = await deliver(second);
    expect(outcomes).toEqual([expect.objectContaining({ subscriber: 'test.ping-reopening-entity', outcome: 'started' })]);
    const handle = system.client.workflow.getHandle(reopeningEntityId(entity));
    await expect(handle.result()).resolves.toEqual({ received: [second.id] });
    expect((await handle.describe()).typedSearchAttributes.get(CustomerIdAttribute)).toBe('c_test');

    // The new run completed: a further event is rejected, not started a third time.
    const third = envelope(ping(entity, 3, 'complete', true));
    expect((await deliver(third)).outcomes).toEqual([expect.objectContaining({ outcome: 'rejected', detail: 'workflow completed' })]);
    expect(await runsOf(reopeningEntityId(entity))).toHaveLength(2);
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
