/** stylingWorkflow: picks a box for an order, and re-picks when inventory reports a shortage. */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { StylingActivities } from './contract';
import { type EventEnvelope, type EventTriggeredInput, isEvent } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { InventoryReserved, InventoryShortage } from '../inventory/contract';
import { OrderCancelled, type OrderPlacedData } from '../orders/contract';
import { STYLING_MAX_ATTEMPTS, StylingCompleted, StylingFailed, type StylingWorkflowResult } from './contract';

// A local activity: a read of stock and a write of styling's own record, run inside the workflow
// task; a re-run after a crash answers from the record.
const { pickItems } = proxyLocalActivities<StylingActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Started by order.placed. Ends when inventory holds the box, the order is cancelled, or styling gives up. */
export async function stylingWorkflow({ event: placed }: EventTriggeredInput<OrderPlacedData>): Promise<StylingWorkflowResult> {
  const order = placed.data;
  const inbox = new Inbox();
  const taken: string[] = [];
  let cause: EventEnvelope = placed;

  for (let attempt = 1; attempt <= STYLING_MAX_ATTEMPTS; attempt++) {
    const { items, alternatives } = await pickItems.executeWithOptions({ summary: `pick ${order.itemCount} × ${order.size} (attempt ${attempt})` }, [
      { orderId: order.orderId, attempt, size: order.size, categories: order.categories, itemCount: order.itemCount, excludeItemIds: taken },
    ]);
    if (items.length === 0) {
      return fail(order, attempt, `no available stock in size ${order.size} for ${order.categories.join(', ')}`, cause);
    }
    await publish(StylingCompleted, {
      id: `styling:${order.orderId}:completed:${attempt}`,
      data: { orderId: order.orderId, customerId: order.customerId, attempt, items, ...(alternatives?.length ? { alternatives } : {}) },
      correlationId: order.orderId,
      causedBy: cause,
    });
    const reply = await inbox.next([InventoryReserved, InventoryShortage, OrderCancelled]);
    if (!reply || isEvent(reply, InventoryReserved)) return { outcome: 'reserved', attempts: attempt };
    if (isEvent(reply, OrderCancelled)) return { outcome: 'cancelled', attempts: attempt };
    if (isEvent(reply, InventoryShortage)) {
      taken.push(...reply.data.unavailableItemIds);
      cause = reply;
    }
  }
  return fail(order, STYLING_MAX_ATTEMPTS, `every one of ${STYLING_MAX_ATTEMPTS} picks hit a stock shortage`, cause);
}

async function fail(order: OrderPlacedData, attempts: number, reason: string, cause: EventEnvelope): Promise<StylingWorkflowResult> {
  await publish(StylingFailed, {
    id: `styling:${order.orderId}:failed`,
    data: { orderId: order.orderId, customerId: order.customerId, attempts, reason },
    correlationId: order.orderId,
    causedBy: cause,
  });
  return { outcome: 'failed', attempts };
}
