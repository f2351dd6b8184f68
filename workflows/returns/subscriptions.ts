/** What returns listens to: a delivery opens the rental window; the rest is its handler table (requests, arrivals, purchases, inventory's restock outcomes). */
import { subscribe } from '../bus/contract';
import { ShipmentDelivered } from '../warehouse/contract';
import { ReturnWorkflow, returnWorkflowId } from './contract';
import { RETURN_EVENTS } from './return-events';

export const returnsSubscriptions = [
  subscribe(ShipmentDelivered, {
    ...ReturnWorkflow,
    name: 'returns.open-rental-window',
    workflowId: (e) => returnWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Rental window of box ${e.data.orderId}`,
  }),
  ...RETURN_EVENTS.subscriptions(() => ({
    ...ReturnWorkflow,
    workflowId: (e) => returnWorkflowId((e.data as { orderId?: string }).orderId ?? ''),
    start: false,
  })),
];
