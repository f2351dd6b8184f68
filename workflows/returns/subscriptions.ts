/** What returns listens to: a delivery opens the rental window; requests, arrivals, purchases and inventory's restock outcomes move it on. */
import { subscribe } from '../bus/contract';
import { ItemRestocked, ItemRetired, ItemSold } from '../inventory/contract';
import { PaymentFailed } from '../payment/contract';
import { PurchaseRequested, ReturnRequested } from '../orders/contract';
import { ReturnArrived, ShipmentDelivered } from '../warehouse/contract';
import { RETURNS_TASK_QUEUE, returnWorkflowId } from './contract';

const ret = { domain: 'returns', workflowType: 'returnWorkflow', taskQueue: RETURNS_TASK_QUEUE } as const;

export const returnsSubscriptions = [
  subscribe(ShipmentDelivered, {
    ...ret,
    name: 'returns.open-rental-window',
    workflowId: (e) => returnWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Rental window of box ${e.data.orderId}`,
  }),
  subscribe(ReturnRequested, { ...ret, name: 'returns.return-requested', workflowId: (e) => returnWorkflowId(e.data.orderId), start: false }),
  subscribe(ReturnArrived, { ...ret, name: 'returns.inspect-arrived-box', workflowId: (e) => returnWorkflowId(e.data.orderId), start: false }),
  subscribe(PurchaseRequested, { ...ret, name: 'returns.exclude-purchased-item', workflowId: (e) => returnWorkflowId(e.data.orderId), start: false }),
  subscribe(ItemSold, { ...ret, name: 'returns.item-sold', workflowId: (e) => returnWorkflowId(e.data.orderId), start: false }),
  subscribe(ItemRestocked, { ...ret, name: 'returns.item-restocked', workflowId: (e) => returnWorkflowId(e.data.orderId), start: false }),
  subscribe(ItemRetired, { ...ret, name: 'returns.item-retired', workflowId: (e) => returnWorkflowId(e.data.orderId), start: false }),
  // A purchase that failed for good: the item is owed back with the box, or lost.
  subscribe(PaymentFailed, {
    ...ret,
    name: 'returns.purchase-failed',
    when: (e) => e.data.purpose === 'purchase' && !!e.data.orderId && !!e.data.itemId,
    workflowId: (e) => returnWorkflowId(e.data.orderId ?? ''),
    start: false,
  }),
];
