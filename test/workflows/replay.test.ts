/**
 * Determinism: a publisher's history replays after a subscription is added, because subscribers
 * are resolved by an activity (recorded in history), never from workflow code.
 */
import { Worker } from '@temporalio/worker';
import { loadRegistry, type Registry } from '../../workers/registry';
import { subscribe } from '../../workflows/bus/contract';
import { OrderPlaced, cancelOrderUpdate } from '../../workflows/orders/contract';
import { startOrder } from '../support/orders';
import { workflowBundle } from '../support/temporal';
import { startSystem } from '../support/system';
import { workflowSinks } from '../../workers/observability';

async function runOrderToCancellation(registry: Registry) {
  // The orders and bus workers, and warehouse integration to confirm the cancel (no instruction was
  // sent): the order is placed and cancelled, nothing else downstream runs.
  const system = await startSystem({ registry, domains: ['orders', 'warehouse-integration'] });
  try {
    const { handle } = await startOrder(system.client, { size: 'REPLAY' });
    await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'replay test' }] });
    await handle.result();
    return await handle.fetchHistory();
  } finally {
    await system.stop();
  }
}

const childStarts = (history: Awaited<ReturnType<typeof runOrderToCancellation>>) =>
  (history.events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length;

describe('replaying publishers', () => {
  it('replays a recorded publisher history without non-determinism after a subscription is added', async () => {
    const before = loadRegistry();
    const recordedBefore = await runOrderToCancellation(before);

    const after: Registry = {
      events: before.events,
      subscriptions: [
        ...before.subscriptions,
        subscribe(OrderPlaced, {
          name: 'test.shadow-styling',
          domain: 'styling',
          workflowType: 'stylingWorkflow',
          taskQueue: 'replay-test-unpolled',
          workflowId: (e) => `shadow-styling:${e.data.orderId}`,
          start: true,
        }),
      ],
    };
    const recordedAfter = await runOrderToCancellation(after);
    // The new subscription really changed what a publisher does...
    expect(childStarts(recordedAfter)).toBe(childStarts(recordedBefore) + 1);

    // ...yet both histories replay against the current workflow code.
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: workflowBundle(), sinks: workflowSinks() }, [
      { workflowId: 'before', history: recordedBefore },
      { workflowId: 'after', history: recordedAfter },
    ])) {
      results.push(result);
    }
    expect(results).toHaveLength(2);
    expect(results.map((r) => r.error)).toEqual([undefined, undefined]);
  });
});
