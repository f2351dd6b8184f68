/** What returns listens to: a delivery opens the rental window; requests, arrivals and purchases move it on. */
import { subscribe } from '../bus/contract';
import { ItemSold } from '../inventory/contract';
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
];
