/**
 * orderWorkflow: the customer-facing life of one order, from placed to closed (every item of the
 * box returned or bought) or cancelled. The order's state and moves are its machine
 * (workflows/orders/order-machine.ts), what it follows is its handler table
 * (workflows/orders/order-events.ts); this file wires the two to the queries, updates and inbox.
 */
import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import { Inbox } from '../bus/publish';
import { FailureType } from '../failures';
import { type InventoryActivities, INVENTORY_TASK_QUEUE } from '../inventory/contract';
import {
  CANCELLABLE_STATUSES,
  PURCHASABLE_STATUSES,
  RETURNABLE_STATUSES,
  cancelOrderUpdate,
  orderDetailQuery,
  purchaseItemUpdate,
  requestReturnUpdate,
  type OrderWorkflowInput,
  type OrderWorkflowResult,
} from './contract';
import { ORDER_EVENTS } from './order-events';
import { OrderMachine } from './order-machine';

/** Inventory's read of the box's items (prices), served by the inventory worker. */
const { listOrderItems } = proxyActivities<InventoryActivities>({
  taskQueue: INVENTORY_TASK_QUEUE,
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Runs one order; its status is mirrored to the orders read model on every transition. */
export async function orderWorkflow(order: OrderWorkflowInput): Promise<OrderWorkflowResult> {
  const m = new OrderMachine(order);
  const inbox = new Inbox();
  installHandlers(m);

  const placed = await m.place();
  for (;;) {
    await condition(() => m.hasWork || inbox.has(ORDER_EVENTS.events));
    if (m.cancel.kind === 'requested') {
      await m.requestCancel(m.cancel.reason, 'customer', placed);
      continue;
    }
    if (m.returnRequest === 'pending') {
      await m.publishReturnRequest();
      continue;
    }
    if (m.purchaseQueue.length > 0) {
      await m.publishNextPurchase();
      continue;
    }
    const event = inbox.take(ORDER_EVENTS.events);
    if (!event) continue;
    m.lastCause = event;
    await ORDER_EVENTS.apply(m, event);
    if (m.result) return m.result;
  }
}

/** The order's query and its three updates; each update waits until the main loop has acted on it. */
function installHandlers(m: OrderMachine): void {
  const { order, detail } = m;
  setHandler(orderDetailQuery, () => detail);
  setHandler(
    cancelOrderUpdate,
    async (req) => {
      m.cancel = { kind: 'requested', reason: req.reason };
      // Answer only once the outcome is in the read model, so a GET right after the answer agrees with it.
      await condition(() => m.cancelAnswered);
      return detail.cancelRejected === undefined ? { status: detail.status } : { status: detail.status, cancelRejected: detail.cancelRejected };
    },
    {
      // The validator runs before the update is accepted into history: a refused cancel leaves no trace.
      validator: (req) => {
        if (!req || typeof req.reason !== 'string' || req.reason.length === 0) {
          throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'a cancellation needs a reason', nonRetryable: true });
        }
        if (m.cancel.kind !== 'none' || !CANCELLABLE_STATUSES.includes(detail.status)) {
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
      m.returnRequest = 'pending';
      await condition(() => m.returnRequest === 'done');
      return { status: detail.status };
    },
    {
      validator: () => {
        if (m.returnRequest || !RETURNABLE_STATUSES.includes(detail.status)) {
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
      m.purchasing.add(itemId);
      const item = (await listOrderItems.executeWithOptions({ summary: `look up the items of box ${order.orderId}` }, [{ orderId: order.orderId }])).find(
        (i) => i.itemId === itemId,
      );
      if (!item) {
        m.purchasing.delete(itemId);
        throw ApplicationFailure.create({
          type: FailureType.PurchaseNotAllowed,
          message: `item ${itemId} is no longer held by ${order.orderId}`,
          nonRetryable: true,
        });
      }
      // The main loop publishes, so purchase.requested is ordered with the order's other events.
      m.purchaseQueue.push({ itemId, priceCents: item.priceCents });
      await condition(() => m.purchaseResults.has(itemId));
      return m.purchaseResults.get(itemId)!;
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
        if (m.purchaseRequested(req.itemId)) {
          throw ApplicationFailure.create({ type: FailureType.AlreadyPurchased, message: `item ${req.itemId} is already bought`, nonRetryable: true });
        }
      },
    },
  );
}
