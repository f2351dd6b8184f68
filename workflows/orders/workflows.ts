/**
 * orderWorkflow: the customer-facing life of one order, from placed to closed (every item of the
 * box returned or bought) or cancelled.
 */
import { ApplicationFailure, allHandlersFinished, condition, log, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import { type EventEnvelope, isEvent } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { ORDER_FOLLOWED_EVENTS } from './followed-events';
import { FailureType } from '../failures';
import { type InventoryActivities, INVENTORY_TASK_QUEUE, InventoryReserved, InventoryShortage, ItemSold } from '../inventory/contract';
import { ReturnCompleted, ReturnOverdue } from '../returns/contract';
import { StylingCompleted, StylingFailed } from '../styling/contract';
import { ReturnArrived, ShipmentDelayed, ShipmentDelivered, ShipmentShipped } from '../warehouse/contract';
import { ShipmentCancelRejected, ShipmentCancelled, ShipmentRejected, ShipmentRequested } from '../warehouse-integration/contract';
import {
  CANCELLABLE_STATUSES,
  OrderCancelled,
  OrderPlaced,
  PURCHASABLE_STATUSES,
  PurchaseRequested,
  RETURNABLE_STATUSES,
  ReturnRequested,
  cancelOrderUpdate,
  purchaseItemUpdate,
  purchaseRequestedEventId,
  requestReturnUpdate,
  type PurchaseItemResult,
  orderDetailQuery,
  type OrderActivities,
  type OrderDetail,
  type OrderStatus,
  type OrderWorkflowInput,
  type OrderWorkflowResult,
} from './contract';

// A local activity: a write to this domain's own tables, run by this worker inside the workflow
// task (no activity task, no extra workflow task), idempotent, so its re-run after a crash is harmless.
const { recordOrderStatus } = proxyLocalActivities<OrderActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Inventory's read of the box's items (prices), served by the inventory worker. */
const { listOrderItems } = proxyActivities<InventoryActivities>({
  taskQueue: INVENTORY_TASK_QUEUE,
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

const FOLLOWED = ORDER_FOLLOWED_EVENTS;

/** Progress rank: an order's status never moves backwards, whatever order events arrive in. */
const RANK: Record<OrderStatus, number> = {
  placed: 0,
  styled: 1,
  reserved: 2,
  awaiting_shipment: 3,
  address_rejected: 3,
  shipped: 4,
  delivered: 5,
  return_requested: 6,
  returned: 7,
  closed: 8,
  cancelled: 9,
};

/** Runs one order; its status is mirrored to the orders read model on every transition. */
export async function orderWorkflow(order: OrderWorkflowInput): Promise<OrderWorkflowResult> {
  const detail: OrderDetail = {
    orderId: order.orderId,
    customerId: order.customerId,
    status: 'placed',
    itemIds: [],
    purchaseRequestedItemIds: [],
    purchasedItemIds: [],
    shipping: order.shipping ?? 'standard',
  };
  const inbox = new Inbox();
  let cancelRequest: { reason: string } | undefined;
  /** order.cancelled is out; the order waits for warehouse integration's answer (final, or too late). */
  let cancelling: { reason: string } | undefined;
  let cancelPublished = false;
  /** The cancel's outcome (cancelled, or too late) is in the read model: the cancel update may answer. */
  let cancelOutcomeRecorded = false;
  let returnRequest: 'pending' | 'done' | undefined;
  /** Member purchases accepted by the update, waiting for the main loop; results by item id. */
  const purchasing = new Set<string>();
  const purchaseQueue: { itemId: string; priceCents: number }[] = [];
  const purchaseResults = new Map<string, PurchaseItemResult>();
  const purchaseRequested = (itemId: string) => detail.purchaseRequestedItemIds!.includes(itemId) || purchasing.has(itemId);

  setHandler(orderDetailQuery, () => detail);
  setHandler(
    cancelOrderUpdate,
    async (req) => {
      cancelRequest = { reason: req.reason };
      // Answer only once the outcome is in the read model, so a GET right after the answer agrees with it.
      await condition(() => cancelOutcomeRecorded);
      return detail.cancelRejected === undefined ? { status: detail.status } : { status: detail.status, cancelRejected: detail.cancelRejected };
    },
    {
      // The validator runs before the update is accepted into history: a refused cancel leaves no trace.
      validator: (req) => {
        if (!req || typeof req.reason !== 'string' || req.reason.length === 0) {
          throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'a cancellation needs a reason', nonRetryable: true });
        }
        if (cancelRequest || cancelPublished || !CANCELLABLE_STATUSES.includes(detail.status)) {
          throw ApplicationFailure.create({
            type: FailureType.OrderNotCancellable,
            message: `order ${order.orderId} is ${detail.status} and can no longer be cancelled`,
            nonRetryable: true,
          });
        }
      },
    },
  );

  setHandler(
    requestReturnUpdate,
    async () => {
      returnRequest = 'pending';
      await condition(() => returnRequest === 'done');
      return { status: detail.status };
    },
    {
      validator: () => {
        if (returnRequest || !RETURNABLE_STATUSES.includes(detail.status)) {
          throw ApplicationFailure.create({
            type: FailureType.ReturnNotAllowed,
            message: `order ${order.orderId} is ${detail.status}: a return can be requested only once the box is delivered`,
            nonRetryable: true,
          });
        }
      },
    },
  );
  setHandler(
    purchaseItemUpdate,
    async ({ itemId }) => {
      purchasing.add(itemId);
      const item = (await listOrderItems.executeWithOptions({ summary: `look up the items of box ${order.orderId}` }, [{ orderId: order.orderId }])).find(
        (i) => i.itemId === itemId,
      );
      if (!item) {
        purchasing.delete(itemId);
        throw ApplicationFailure.create({
          type: FailureType.PurchaseNotAllowed,
          message: `item ${itemId} is no longer held by ${order.orderId}`,
          nonRetryable: true,
        });
      }
      // The main loop publishes, so purchase.requested is ordered with the order's other events.
      purchaseQueue.push({ itemId, priceCents: item.priceCents });
      await condition(() => purchaseResults.has(itemId));
      return purchaseResults.get(itemId)!;
    },
    {
      validator: (req) => {
        if (!req || typeof req.itemId !== 'string') {
          throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'a purchase names an item', nonRetryable: true });
        }
        if (!PURCHASABLE_STATUSES.includes(detail.status) || !detail.itemIds.includes(req.itemId)) {
          throw ApplicationFailure.create({
            type: FailureType.PurchaseNotAllowed,
            message: detail.itemIds.includes(req.itemId)
              ? `order ${order.orderId} is ${detail.status}: items can be bought only while the box is with the member`
              : `item ${req.itemId} is not in box ${order.orderId}`,
            nonRetryable: true,
          });
        }
        if (purchaseRequested(req.itemId)) {
          throw ApplicationFailure.create({ type: FailureType.AlreadyPurchased, message: `item ${req.itemId} is already bought`, nonRetryable: true });
        }
      },
    },
  );

  async function transition(status: OrderStatus, cause: EventEnvelope | undefined, changes: Partial<OrderDetail> = {}): Promise<void> {
    if (RANK[status] < RANK[detail.status] && status !== detail.status) {
      log.info('stale event ignored', { orderId: order.orderId, eventId: cause?.id, status, current: detail.status });
      return;
    }
    Object.assign(detail, changes, { status, lastEventId: cause?.id ?? detail.lastEventId });
    await recordOrderStatus.executeWithOptions({ summary: `order ${order.orderId} is ${status}` }, [
      {
        order,
        status,
        statusReason: detail.statusReason ?? null,
        itemIds: detail.itemIds,
        trackingNumber: detail.trackingNumber ?? null,
        purchasedItemIds: detail.purchasedItemIds,
      },
    ]);
  }

  /**
   * Asks everyone holding something for the box to let go. The order is cancelled only once the
   * WMS side confirms (shipment.cancelled); until then it keeps its status, "cancelling".
   */
  async function requestCancel(reason: string, cancelledBy: 'customer' | 'system', cause?: EventEnvelope): Promise<void> {
    cancelPublished = true;
    await publish(OrderCancelled, {
      id: `order:${order.orderId}:cancelled`,
      data: {
        orderId: order.orderId,
        customerId: order.customerId,
        reason,
        cancelledBy,
        ...(detail.status === 'address_rejected' ? { afterShipmentRejected: true } : {}),
      },
      correlationId: order.orderId,
      causedBy: cause,
    });
    cancelling = { reason };
    await transition(detail.status, cause, { statusReason: `cancelling: ${reason}` });
  }

  /** The cancel came too late: the box is on its way, and the order follows it like any other. */
  function cancelTooLate(why: string): void {
    cancelling = undefined;
    detail.cancelRejected = why;
  }

  await transition('placed', undefined);
  const placed = await publish(OrderPlaced, { id: `order:${order.orderId}:placed`, data: order, correlationId: order.orderId });

  let lastCause: EventEnvelope = placed;
  for (;;) {
    await condition(() => (cancelRequest !== undefined && !cancelPublished) || returnRequest === 'pending' || purchaseQueue.length > 0 || inbox.has(FOLLOWED));
    if (cancelRequest && !cancelPublished) {
      await requestCancel(cancelRequest.reason, 'customer', placed);
      continue;
    }
    if (returnRequest === 'pending') {
      lastCause = await publish(ReturnRequested, {
        id: `order:${order.orderId}:return-requested`,
        data: { orderId: order.orderId, customerId: order.customerId, requestedBy: 'member' },
        correlationId: order.orderId,
        causedBy: lastCause,
      });
      await transition('return_requested', lastCause, { statusReason: undefined });
      returnRequest = 'done';
      continue;
    }
    const item = purchaseQueue[0];
    if (item !== undefined) {
      const { itemId } = item;
      await publish(PurchaseRequested, {
        id: purchaseRequestedEventId(order.orderId, itemId),
        data: { orderId: order.orderId, customerId: order.customerId, itemId, priceCents: item.priceCents, reason: 'member' },
        correlationId: order.orderId,
        causedBy: lastCause,
      });
      detail.purchaseRequestedItemIds!.push(itemId);
      purchaseQueue.shift();
      purchaseResults.set(itemId, { itemId, priceCents: item.priceCents, status: 'requested' });
      continue;
    }
    const event = inbox.take(FOLLOWED);
    if (!event) continue;
    lastCause = event;

    if (isEvent(event, StylingCompleted)) {
      await transition('styled', event, { itemIds: event.data.items.map((i) => i.itemId) });
    } else if (isEvent(event, StylingFailed)) {
      // Compensation: no box can be made, so the order cancels itself and says why.
      if (!cancelPublished) await requestCancel(`styling failed: ${event.data.reason}`, 'system', event);
    } else if (isEvent(event, InventoryShortage)) {
      if (!cancelling) await transition('placed', event, { statusReason: 're-styling after a stock shortage' });
    } else if (isEvent(event, ShipmentCancelled)) {
      const reason = cancelling?.reason ?? event.data.reason;
      await transition('cancelled', event, { statusReason: reason });
      cancelOutcomeRecorded = true;
      // Let a waiting cancel update answer before the run closes.
      await condition(allHandlersFinished);
      return { status: 'cancelled', reason };
    } else if (isEvent(event, ShipmentCancelRejected)) {
      cancelTooLate(event.data.reason);
      await transition(detail.status, event, { statusReason: `cancel came too late: ${event.data.reason}` });
      cancelOutcomeRecorded = true;
    } else if (isEvent(event, InventoryReserved)) {
      await transition('reserved', event, { itemIds: event.data.items.map((i) => i.itemId), statusReason: cancelling ? detail.statusReason : undefined });
    } else if (isEvent(event, ShipmentRequested)) {
      await transition('awaiting_shipment', event, { statusReason: cancelling ? detail.statusReason : undefined });
    } else if (isEvent(event, ShipmentRejected)) {
      await transition('address_rejected', event, { statusReason: event.data.reason });
    } else if (isEvent(event, ShipmentDelayed)) {
      await transition(detail.status, event, { statusReason: 'the warehouse is late' });
    } else if (isEvent(event, ShipmentShipped)) {
      // Shipped while a cancel was on its way to the WMS: the cancel cannot win any more.
      if (cancelling) cancelTooLate('the box had already left the warehouse when the cancel reached it');
      await transition('shipped', event, {
        trackingNumber: event.data.trackingNumber,
        statusReason: detail.cancelRejected ? `cancel came too late: ${detail.cancelRejected}` : undefined,
      });
      if (detail.cancelRejected !== undefined) cancelOutcomeRecorded = true;
    } else if (isEvent(event, ShipmentDelivered)) {
      // The rental window opens (returns follows it); the order stays open until the box is settled.
      await transition('delivered', event, { statusReason: undefined });
    } else if (isEvent(event, PurchaseRequested)) {
      // Ours, or the overdue path's (returns): either way the item can no longer be bought again.
      if (!detail.purchaseRequestedItemIds!.includes(event.data.itemId)) detail.purchaseRequestedItemIds!.push(event.data.itemId);
    } else if (isEvent(event, ItemSold)) {
      if (!detail.purchaseRequestedItemIds!.includes(event.data.itemId)) detail.purchaseRequestedItemIds!.push(event.data.itemId);
      if (!detail.purchasedItemIds!.includes(event.data.itemId)) detail.purchasedItemIds!.push(event.data.itemId);
      await transition(detail.status, event);
    } else if (isEvent(event, ReturnOverdue)) {
      await transition(detail.status, event, { statusReason: `overdue: ${event.data.unreturnedItemIds.length} unreturned item(s) are being bought` });
    } else if (isEvent(event, ReturnArrived)) {
      await transition('returned', event, { statusReason: undefined });
    } else if (isEvent(event, ReturnCompleted)) {
      await transition('closed', event, { purchasedItemIds: event.data.purchasedItemIds });
      return { status: 'closed' };
    }
  }
}
