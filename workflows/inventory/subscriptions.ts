/** What inventory listens to: picks to reserve, and the events that end a reservation. */
import { subscribe } from '../bus/contract';
import { OrderCancelled } from '../orders/contract';
import { PaymentCaptured } from '../payment/contract';
import { StylingCompleted, StylingFailed } from '../styling/contract';
import { ShipmentShipped } from '../warehouse/contract';
import { INVENTORY_TASK_QUEUE, reservationWorkflowId, saleWorkflowId } from './contract';

const reservation = { domain: 'inventory', workflowType: 'reservationWorkflow', taskQueue: INVENTORY_TASK_QUEUE } as const;

export const inventorySubscriptions = [
  subscribe(StylingCompleted, {
    ...reservation,
    name: 'inventory.reserve-picked-items',
    workflowId: (e) => reservationWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Reserve ${e.data.items.length} items for box ${e.data.orderId}`,
  }),
  subscribe(StylingFailed, { ...reservation, name: 'inventory.abandon-on-styling-failed', workflowId: (e) => reservationWorkflowId(e.data.orderId), start: false }),
  // start: true so a cancel that beats the first pick leaves a closed reservation behind (a tombstone).
  subscribe(OrderCancelled, { ...reservation, name: 'inventory.release-on-cancel', workflowId: (e) => reservationWorkflowId(e.data.orderId), start: true }),
  subscribe(ShipmentShipped, { ...reservation, name: 'inventory.ship-reserved-items', workflowId: (e) => reservationWorkflowId(e.data.orderId), start: false }),
];

/** A captured purchase sells the item (membership fees are filtered out). */
export const saleSubscriptions = [
  subscribe(PaymentCaptured, {
    domain: 'inventory',
    workflowType: 'saleWorkflow',
    taskQueue: INVENTORY_TASK_QUEUE,
    name: 'inventory.sell-purchased-item',
    when: (e) => e.data.purpose === 'purchase' && !!e.data.orderId && !!e.data.itemId,
    workflowId: (e) => saleWorkflowId(e.data.orderId ?? '', e.data.itemId ?? ''),
    start: true,
    summary: (e) => `Sell item ${e.data.itemId} of box ${e.data.orderId}`,
  }),
];
