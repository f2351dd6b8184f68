/** reservationWorkflow: the hold an order has on stock, from the first pick to shipment or release. */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { InventoryActivities } from './contract';
import { type EventTriggeredInput, isEvent } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { OrderCancelled, type OrderCancelledData } from '../orders/contract';
import { StylingCompleted, StylingFailed, type PickedItem, type StylingCompletedData } from '../styling/contract';
import { ShipmentShipped } from '../warehouse/contract';
import { ShipmentCancelled } from '../warehouse-integration/contract';
import type { PaymentCapturedData } from '../payment/contract';
import { InventoryReleased, InventoryReserved, InventoryShortage, ItemSold, type ReservationWorkflowResult, type SaleWorkflowResult } from './contract';

// Local activities: inventory's own transactions, run inside the workflow task; each records its
// outcome, so a re-run after a crash gets the recorded answer.
const { reserveItems, releaseItems, markItemsShipped, sellItem } = proxyLocalActivities<InventoryActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * Started by the first styling.completed of an order (later picks arrive as signals), or by
 * order.cancelled when the order is cancelled before any pick: that run releases nothing and
 * closes, leaving a tombstone so a pick still in flight can never reserve for a dead order.
 * A cancel of held items releases them only on shipment.cancelled (the WMS confirmed, nothing
 * will ship); if the cancel came too late the box ships and its items go with it.
 */
export async function reservationWorkflow({
  event: first,
}: EventTriggeredInput<StylingCompletedData | OrderCancelledData>): Promise<ReservationWorkflowResult> {
  const orderId = first.correlationId;
  const customerId = first.data.customerId;
  const inbox = new Inbox(first);
  let held: PickedItem[] = [];
  /** order.cancelled seen while holding items: no new pick reserves, the WMS's answer decides. */
  let cancelling = false;

  for (;;) {
    const event = await inbox.next([StylingCompleted, StylingFailed, OrderCancelled, ShipmentCancelled, ShipmentShipped]);
    if (!event) continue;

    if (isEvent(event, StylingCompleted)) {
      // A pick that arrives after the box is already held is stale: the first success wins.
      if (held.length > 0 || cancelling) continue;
      const { items, alternatives } = event.data;
      const result = await reserveItems.executeWithOptions({ summary: `reserve ${items.length} items for box ${orderId}` }, [
        { orderId, attempt: event.data.attempt, items, ...(alternatives ? { alternatives } : {}) },
      ]);
      if (result.reserved) {
        // What inventory holds, slot by slot: styling's choice, or a backup where it was taken.
        held = result.items;
        await publish(InventoryReserved, {
          id: `inventory:${orderId}:reserved`,
          data: { orderId, customerId, attempt: event.data.attempt, items: held },
          correlationId: orderId,
          causedBy: event,
        });
      } else {
        await publish(InventoryShortage, {
          id: `inventory:${orderId}:shortage:${event.data.attempt}`,
          data: { orderId, customerId, attempt: event.data.attempt, unavailableItemIds: result.unavailableItemIds },
          correlationId: orderId,
          causedBy: event,
        });
      }
    } else if (isEvent(event, StylingFailed)) {
      return { outcome: 'abandoned', itemIds: [] };
    } else if (isEvent(event, OrderCancelled)) {
      // Nothing held, so nothing can have been sent to the WMS: close now, as a tombstone.
      if (held.length === 0) return { outcome: 'released', itemIds: [] };
      cancelling = true;
    } else if (isEvent(event, ShipmentCancelled)) {
      // Compensation: the cancel is final, so the order lets go of everything it holds.
      const { releasedItemIds } = await releaseItems.executeWithOptions({ summary: `release the items of box ${orderId}` }, [{ orderId }]);
      // A tombstone run held nothing: there is no fact to announce.
      if (releasedItemIds.length === 0) return { outcome: 'released', itemIds: [] };
      await publish(InventoryReleased, {
        id: `inventory:${orderId}:released`,
        data: { orderId, itemIds: releasedItemIds, reason: event.data.reason },
        correlationId: orderId,
        causedBy: event,
      });
      return { outcome: 'released', itemIds: releasedItemIds };
    } else if (isEvent(event, ShipmentShipped)) {
      const { shippedItemIds } = await markItemsShipped.executeWithOptions({ summary: `mark the items of box ${orderId} shipped` }, [{ orderId }]);
      return { outcome: 'shipped', itemIds: shippedItemIds };
    }
  }
}

/**
 * saleWorkflow (`sale:<orderId>:<itemId>`): started by `payment.captured` for a purchase. The
 * money is in, so the item the member has at home becomes `sold` and `item.sold` tells accounting
 * (cost of goods sold), orders and returns. A workflow of its own rather than a step of
 * reservationWorkflow: the reservation ends at shipment, while a purchase can come weeks later,
 * once per item, and its id makes a second capture of the same item start nothing.
 */
export async function saleWorkflow({ event }: EventTriggeredInput<PaymentCapturedData>): Promise<SaleWorkflowResult> {
  const { orderId, itemId, customerId } = event.data;
  if (!orderId || !itemId) throw new Error(`payment ${event.id} is not the purchase of an item`);
  const sold = await sellItem.executeWithOptions({ summary: `sell ${itemId} of box ${orderId}` }, [{ orderId, itemId }]);
  await publish(ItemSold, {
    id: `inventory:${orderId}:${itemId}:sold`,
    data: { orderId, customerId, itemId, priceCents: event.data.amountCents, costCents: sold.costCents },
    correlationId: orderId,
    causedBy: event,
  });
  return { itemId, outcome: 'sold' };
}
