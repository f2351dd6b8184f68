/** What accounting listens to: money captured and refunded, and items sold. One ledger per customer. */
import { subscribe } from '../bus/contract';
import { PaymentCaptured, PaymentRefunded } from '../payment/contract';
import { LedgerWorkflow, ItemSold, ledgerWorkflowId } from './contract';

// A ledger belongs to the member, not to the box whose event happened to start it. It never
// finishes on its own, so a closed one was terminated or failed: money must still reach the
// books, so the event starts a new run (which also sweeps what the closed run left unbooked).
const ledger = {
  ...LedgerWorkflow,
  start: true,
  reopen: true,
  scope: 'customer',
} as const;

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
