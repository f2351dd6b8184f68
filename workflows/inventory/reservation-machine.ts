/**
 * The hold one order has on stock, and every move reservationWorkflow makes on it; what each
 * followed event does is the table in workflows/inventory/reservation-events.ts. Every move issues
 * the commands the earlier if-chain issued, in the same order (test/workflows/history-gate.test.ts).
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { EventEnvelope } from '../bus/contract';
import { publish } from '../bus/publish';
import type { OrderCancelledData } from '../orders/contract';
import type { PickedItem, StylingCompletedData } from '../styling/contract';
import type { ShipmentCancelledData } from '../warehouse-integration/contract';
import { InventoryReleased, InventoryReserved, InventoryShortage, type InventoryActivities, type ReservationWorkflowResult } from './contract';

// Local activities: inventory's own transactions, run inside the workflow task; each records its
// outcome, so a re-run after a crash gets the recorded answer.
const { reserveItems, releaseItems, markItemsShipped } = proxyLocalActivities<InventoryActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** One order's reservation. */
export class ReservationMachine {
  readonly orderId: string;
  readonly customerId: string;
  /** What inventory holds, slot by slot: styling's choice, or a backup where it was taken. */
  held: PickedItem[] = [];
  /** order.cancelled seen while holding items: no new pick reserves, the WMS's answer decides. */
  cancelling = false;
  /** Set when the reservation is over: the workflow returns it. */
  result: ReservationWorkflowResult | undefined;

  constructor(first: EventEnvelope<StylingCompletedData | OrderCancelledData>) {
    this.orderId = first.correlationId;
    this.customerId = first.data.customerId;
  }

  /** A pick: reserve it (inventory.reserved) or report what was taken meanwhile (inventory.shortage). */
  async reserve(event: EventEnvelope<StylingCompletedData>): Promise<void> {
    const { orderId, customerId } = this;
    // A pick that arrives after the box is already held is stale: the first success wins.
    if (this.held.length > 0 || this.cancelling) return;
    const { items, alternatives } = event.data;
    const result = await reserveItems.executeWithOptions({ summary: `reserve ${items.length} items for box ${orderId}` }, [
      { orderId, attempt: event.data.attempt, items, ...(alternatives ? { alternatives } : {}) },
    ]);
    if (result.reserved) {
      this.held = result.items;
      await publish(InventoryReserved, {
        id: `inventory:${orderId}:reserved`,
        data: { orderId, customerId, attempt: event.data.attempt, items: this.held },
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
  }

  /** The order is cancelled: with nothing held nothing can have reached the WMS, so close now, as a tombstone. */
  cancel(): void {
    if (this.held.length === 0) this.result = { outcome: 'released', itemIds: [] };
    else this.cancelling = true;
  }

  /** Compensation: the cancel is final, so the order lets go of everything it holds. */
  async release(event: EventEnvelope<ShipmentCancelledData>): Promise<void> {
    const { orderId } = this;
    const { releasedItemIds } = await releaseItems.executeWithOptions({ summary: `release the items of box ${orderId}` }, [{ orderId }]);
    this.result = { outcome: 'released', itemIds: releasedItemIds };
    // A tombstone run held nothing: there is no fact to announce.
    if (releasedItemIds.length === 0) return;
    await publish(InventoryReleased, {
      id: `inventory:${orderId}:released`,
      data: { orderId, itemIds: releasedItemIds, reason: event.data.reason },
      correlationId: orderId,
      causedBy: event,
    });
  }

  /** The box left the warehouse: its items go with it. */
  async shipped(): Promise<void> {
    const { shippedItemIds } = await markItemsShipped.executeWithOptions({ summary: `mark the items of box ${this.orderId} shipped` }, [
      { orderId: this.orderId },
    ]);
    this.result = { outcome: 'shipped', itemIds: shippedItemIds };
  }
}
