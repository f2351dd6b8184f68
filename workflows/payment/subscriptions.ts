/** What payment listens to: requests to charge, from other domains. */
import { subscribe } from '../bus/contract';
import { MembershipRenewalDue, PurchaseRequested } from '../orders/contract';
import { PAYMENT_TASK_QUEUE, chargeWorkflowId, membershipChargeKey, purchaseChargeKey } from './contract';

const charge = { domain: 'payment', workflowType: 'chargeWorkflow', taskQueue: PAYMENT_TASK_QUEUE, start: true } as const;

export const paymentSubscriptions = [
  subscribe(PurchaseRequested, {
    ...charge,
    name: 'payment.charge-purchase',
    workflowId: (e) => chargeWorkflowId(purchaseChargeKey(e.data.orderId, e.data.itemId)),
    summary: (e) => `Charge ${e.data.priceCents} cents for item ${e.data.itemId} of box ${e.data.orderId} (${e.data.reason})`,
  }),
  subscribe(MembershipRenewalDue, {
    ...charge,
    name: 'payment.charge-membership',
    workflowId: (e) => chargeWorkflowId(membershipChargeKey(e.data.customerId, e.data.period)),
    summary: (e) => `Charge the ${e.data.period} membership fee of ${e.data.customerId} (${e.data.amountCents} cents)`,
  }),
];
