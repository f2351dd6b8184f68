/** What accounting listens to: money captured and refunded, and items sold. One ledger per customer. */
import { subscribe } from '../bus/contract';
import { PaymentCaptured, PaymentRefunded } from '../payment/contract';
import { ACCOUNTING_TASK_QUEUE, ItemSold, ledgerWorkflowId } from './contract';

// A ledger belongs to the member, not to the box whose event happened to start it.
const ledger = { domain: 'accounting', workflowType: 'ledgerWorkflow', taskQueue: ACCOUNTING_TASK_QUEUE, start: true, scope: 'customer' } as const;

export const accountingSubscriptions = [
  subscribe(PaymentCaptured, {
    ...ledger,
    name: 'accounting.book-payment-captured',
    workflowId: (e) => ledgerWorkflowId(e.data.customerId),
    summary: (e) => `Ledger of customer ${e.data.customerId}`,
  }),
  subscribe(PaymentRefunded, {
    ...ledger,
    name: 'accounting.book-payment-refunded',
    workflowId: (e) => ledgerWorkflowId(e.data.customerId),
    summary: (e) => `Ledger of customer ${e.data.customerId}`,
  }),
  subscribe(ItemSold, {
    ...ledger,
    name: 'accounting.book-item-sold',
    workflowId: (e) => ledgerWorkflowId(e.data.customerId),
    summary: (e) => `Ledger of customer ${e.data.customerId}`,
  }),
];
