/** orderWorkflow: the customer-facing life of one order, from placed to delivered or cancelled. */
import { ApplicationFailure, condition, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { OrderActivities } from '../../activities/orders';
import { type EventEnvelope, isEvent } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { FailureType } from '../failures';
import { InventoryReserved, InventoryShortage } from '../inventory/contract';
import { StylingCompleted, StylingFailed } from '../styling/contract';
import { ShipmentDelayed, ShipmentDelivered, ShipmentShipped } from '../warehouse/contract';
import { ShipmentRejected, ShipmentRequested } from '../warehouse-integration/contract';
import {
  CANCELLABLE_STATUSES,
  OrderCancelled,
  OrderPlaced,
  cancelOrderUpdate,
  orderDetailQuery,
  type OrderDetail,
  type OrderStatus,
  type OrderWorkflowInput,
  type OrderWorkflowResult,
} from './contract';

const { recordOrderStatus } = proxyActivities<OrderActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** The events this workflow follows, in the order a box normally goes through them. */
const FOLLOWED = [StylingCompleted, StylingFailed, InventoryReserved, InventoryShortage, ShipmentRequested, ShipmentRejected, ShipmentShipped, ShipmentDelayed, ShipmentDelivered];

/** Progress rank: an order's status never moves backwards, whatever order events arrive in. */
const RANK: Record<OrderStatus, number> = {
  placed: 0,
  styled: 1,
  reserved: 2,
  awaiting_shipment: 3,
  address_rejected: 3,
  shipped: 4,
  delivered: 5,
  cancelled: 6,
};

/** Runs one order; its status is mirrored to the orders read model on every transition. */
export async function orderWorkflow(order: OrderWorkflowInput): Promise<OrderWorkflowResult> {
  const detail: OrderDetail = { orderId: order.orderId, customerId: order.customerId, status: 'placed', itemIds: [] };
  const inbox = new Inbox();
  let cancelRequest: { reason: string } | undefined;

  setHandler(orderDetailQuery, () => detail);
  setHandler(
    cancelOrderUpdate,
    async (req) => {
      cancelRequest = { reason: req.reason };
      await condition(() => detail.status === 'cancelled');
      return { status: detail.status };
    },
    {
      // The validator runs before the update is accepted into history: a refused cancel leaves no trace.
      validator: (req) => {
        if (!req || typeof req.reason !== 'string' || req.reason.length === 0) {
          throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'a cancellation needs a reason', nonRetryable: true });
        }
        if (cancelRequest || !CANCELLABLE_STATUSES.includes(detail.status)) {
          throw ApplicationFailure.create({
            type: FailureType.OrderNotCancellable,
            message: `order ${order.orderId} is ${detail.status} and can no longer be cancelled`,
            nonRetryable: true,
          });
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
    await recordOrderStatus({
      order,
      status,
      statusReason: detail.statusReason ?? null,
      itemIds: detail.itemIds,
      trackingNumber: detail.trackingNumber ?? null,
    });
  }

  async function cancel(reason: string, cancelledBy: 'customer' | 'system', cause?: EventEnvelope): Promise<OrderWorkflowResult> {
    await publish(OrderCancelled, {
      id: `order:${order.orderId}:cancelled`,
      data: { orderId: order.orderId, customerId: order.customerId, reason, cancelledBy },
      correlationId: order.orderId,
      causedBy: cause,
    });
    await transition('cancelled', cause, { statusReason: reason });
    return { status: 'cancelled', reason };
  }

  await transition('placed', undefined);
  const placed = await publish(OrderPlaced, { id: `order:${order.orderId}:placed`, data: order, correlationId: order.orderId });

  for (;;) {
    await condition(() => cancelRequest !== undefined || inbox.has(FOLLOWED));
    if (cancelRequest) return cancel(cancelRequest.reason, 'customer', placed);
    const event = inbox.take(FOLLOWED);
    if (!event) continue;

    if (isEvent(event, StylingCompleted)) {
      await transition('styled', event, { itemIds: event.data.items.map((i) => i.itemId) });
    } else if (isEvent(event, StylingFailed)) {
      // Compensation: no box can be made, so the order cancels itself and says why.
      return cancel(`styling failed: ${event.data.reason}`, 'system', event);
    } else if (isEvent(event, InventoryShortage)) {
      await transition('placed', event, { statusReason: 're-styling after a stock shortage' });
    } else if (isEvent(event, InventoryReserved)) {
      await transition('reserved', event, { itemIds: event.data.items.map((i) => i.itemId), statusReason: undefined });
    } else if (isEvent(event, ShipmentRequested)) {
      await transition('awaiting_shipment', event, { statusReason: undefined });
    } else if (isEvent(event, ShipmentRejected)) {
      await transition('address_rejected', event, { statusReason: event.data.reason });
    } else if (isEvent(event, ShipmentDelayed)) {
      await transition(detail.status, event, { statusReason: 'the warehouse is late' });
    } else if (isEvent(event, ShipmentShipped)) {
      await transition('shipped', event, { trackingNumber: event.data.trackingNumber, statusReason: undefined });
    } else if (isEvent(event, ShipmentDelivered)) {
      await transition('delivered', event, { statusReason: undefined });
      return { status: 'delivered' };
    }
  }
}
