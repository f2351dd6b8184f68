/** What styling listens to: new orders start a styling; inventory's answer and cancellations end it. */
import { subscribe } from '../bus/contract';
import { InventoryReserved, InventoryShortage } from '../inventory/contract';
import { OrderCancelled, OrderPlaced } from '../orders/contract';
import { StylingWorkflow, stylingWorkflowId } from './contract';

const styling = StylingWorkflow;

export const stylingSubscriptions = [
  subscribe(OrderPlaced, {
    ...styling,
    name: 'styling.style-placed-order',
    workflowId: (e) => stylingWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Style box ${e.data.orderId} for ${e.data.customerId} — ${e.data.itemCount} items, size ${e.data.size}`,
  }),
  subscribe(InventoryShortage, { ...styling, name: 'styling.repick-on-shortage', workflowId: (e) => stylingWorkflowId(e.data.orderId), start: false }),
  subscribe(InventoryReserved, { ...styling, name: 'styling.done-on-reserved', workflowId: (e) => stylingWorkflowId(e.data.orderId), start: false }),
  subscribe(OrderCancelled, { ...styling, name: 'styling.stop-on-cancel', workflowId: (e) => stylingWorkflowId(e.data.orderId), start: false }),
];
