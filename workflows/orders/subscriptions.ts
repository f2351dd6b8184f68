/** What the orders domain listens to: every milestone of its boxes, to keep the order's status. */
import { subscribe } from '../bus/contract';
import { InventoryReserved, InventoryShortage, ItemSold } from '../inventory/contract';
import { ReturnCompleted, ReturnOverdue } from '../returns/contract';
import { StylingCompleted, StylingFailed } from '../styling/contract';
import { ReturnArrived, ShipmentDelayed, ShipmentDelivered, ShipmentShipped } from '../warehouse/contract';
import { ShipmentRejected, ShipmentRequested } from '../warehouse-integration/contract';
import { ORDERS_TASK_QUEUE, PurchaseRequested, orderWorkflowId } from './contract';

/** Membership follows the payment outcome of each period's fee. */
export { membershipSubscriptions } from './membership-subscriptions';

const follow = (event: Parameters<typeof subscribe>[0]) =>
  subscribe(event, {
    name: `orders.track-${event.type}`,
    domain: 'orders',
    workflowType: 'orderWorkflow',
    taskQueue: ORDERS_TASK_QUEUE,
    workflowId: (e) => orderWorkflowId(e.correlationId),
    start: false,
  });

export const ordersSubscriptions = [
  StylingCompleted,
  StylingFailed,
  InventoryShortage,
  InventoryReserved,
  ShipmentRequested,
  ShipmentRejected,
  ShipmentShipped,
  ShipmentDelayed,
  ShipmentDelivered,
  // After delivery: purchases (the member's or the overdue path's), the return, the close.
  PurchaseRequested,
  ItemSold,
  ReturnOverdue,
  ReturnArrived,
  ReturnCompleted,
].map(follow);
