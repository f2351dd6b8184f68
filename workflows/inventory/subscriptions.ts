/** What inventory listens to: picks to reserve, and the events that end a reservation. */
import { subscribe } from '../bus/contract';
import { OrderCancelled } from '../orders/contract';
import { PaymentCaptured } from '../payment/contract';
import { ItemInspected, ItemLost } from '../returns/contract';
import { StylingCompleted, StylingFailed } from '../styling/contract';
import { ShipmentShipped } from '../warehouse/contract';
import { ShipmentCancelled } from '../warehouse-integration/contract';
import { INVENTORY_TASK_QUEUE, reservationWorkflowId, restockWorkflowId, saleWorkflowId } from './contract';

const reservation = { domain: 'inventory', workflowType: 'reservationWorkflow', taskQueue: INVENTORY_TASK_QUEUE } as const;

export const inventorySubscriptions = [
  subscribe(StylingCompleted, {
    ...reservation,
    name: 'inventory.reserve-picked-items',
    workflowId: (e) => reservationWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Reserve ${e.data.items.length} items for box ${e.data.orderId}`,
  }),
  subscribe(StylingFailed, {
    ...reservation,
    name: 'inventory.abandon-on-styling-failed',
    workflowId: (e) => reservationWorkflowId(e.data.orderId),
    start: false,
  }),
  // start: true so a cancel that beats the first pick leaves a closed reservation behind (a tombstone).
  subscribe(OrderCancelled, { ...reservation, name: 'inventory.release-on-cancel', workflowId: (e) => reservationWorkflowId(e.data.orderId), start: true }),
  // Held items are let go only once the WMS side confirms nothing will ship.
  subscribe(ShipmentCancelled, {
    ...reservation,
    name: 'inventory.release-on-shipment-cancelled',
    workflowId: (e) => reservationWorkflowId(e.data.orderId),
    start: false,
  }),
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

/** Returns' facts about an item of a returned box: inventory moves it (one restock workflow per item). */
const restock = { domain: 'inventory', workflowType: 'restockWorkflow', taskQueue: INVENTORY_TASK_QUEUE } as const;
export const restockSubscriptions = [
  subscribe(ItemInspected, {
    ...restock,
    name: 'inventory.restock-inspected-item',
    workflowId: (e) => restockWorkflowId(e.data.orderId, e.data.itemId),
    start: true,
    summary: (e) => `Take back ${e.data.outcome} item ${e.data.itemId} of box ${e.data.orderId}`,
  }),
  subscribe(ItemLost, {
    ...restock,
    name: 'inventory.retire-lost-item',
    workflowId: (e) => restockWorkflowId(e.data.orderId, e.data.itemId),
    start: true,
    summary: (e) => `Write off lost item ${e.data.itemId} of box ${e.data.orderId}`,
  }),
];
