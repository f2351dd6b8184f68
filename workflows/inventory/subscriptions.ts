/** What inventory listens to: picks to reserve, and the events that end a reservation. */
import { subscribe } from '../bus/contract';
import { PaymentCaptured } from '../payment/contract';
import { ItemInspected, ItemLost } from '../returns/contract';
import { ReservationWorkflow, RestockWorkflow, SaleWorkflow, reservationWorkflowId, restockWorkflowId, saleWorkflowId } from './contract';
import { RESERVATION_EVENTS } from './reservation-events';

/** Picks to reserve, and the events that end a reservation: its handler table. */
export const inventorySubscriptions = RESERVATION_EVENTS.subscriptions(() => ({
  ...ReservationWorkflow,
  workflowId: (e) => reservationWorkflowId((e.data as { orderId: string }).orderId),
  start: false,
}));

/** A captured purchase sells the item (membership fees are filtered out). */
export const saleSubscriptions = [
  subscribe(PaymentCaptured, {
    ...SaleWorkflow,
    name: 'inventory.sell-purchased-item',
    when: (e) => e.data.purpose === 'purchase' && !!e.data.orderId && !!e.data.itemId,
    workflowId: (e) => saleWorkflowId(e.data.orderId ?? '', e.data.itemId ?? ''),
    start: true,
    summary: (e) => `Sell item ${e.data.itemId} of box ${e.data.orderId}`,
  }),
];

/** Returns' facts about an item of a returned box: inventory moves it (one restock workflow per item). */
const restock = RestockWorkflow;
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
