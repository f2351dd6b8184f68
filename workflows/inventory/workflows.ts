/** reservationWorkflow: the hold an order has on stock, from the first pick to shipment or release; saleWorkflow. */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { EventTriggeredInput } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import type { OrderCancelledData } from '../orders/contract';
import type { PaymentCapturedData } from '../payment/contract';
import type { StylingCompletedData } from '../styling/contract';
import { ItemSold, type InventoryActivities, type ReservationWorkflowResult, type SaleWorkflowResult } from './contract';
import { RESERVATION_EVENTS } from './reservation-events';
import { ReservationMachine } from './reservation-machine';

// A local activity: inventory's own transaction, run inside the workflow task; it records its
// outcome, so a re-run after a crash gets the recorded answer.
const { sellItem } = proxyLocalActivities<InventoryActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * Started by the first styling.completed of an order (later picks arrive as signals), or by
 * order.cancelled when the order is cancelled before any pick: that run releases nothing and
 * closes, leaving a tombstone so a pick still in flight can never reserve for a dead order.
 * A cancel of held items releases them only on shipment.cancelled (the WMS confirmed, nothing
 * will ship); if the cancel came too late the box ships and its items go with it. The hold and
 * its moves are its machine (reservation-machine.ts), what it follows its table (reservation-events.ts).
 */
export async function reservationWorkflow({
  event: first,
}: EventTriggeredInput<StylingCompletedData | OrderCancelledData>): Promise<ReservationWorkflowResult> {
  const m = new ReservationMachine(first);
  const inbox = new Inbox(first);
  for (;;) {
    const event = await inbox.next(RESERVATION_EVENTS.events);
    if (!event) continue;
    await RESERVATION_EVENTS.apply(m, event);
    if (m.result) return m.result;
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
