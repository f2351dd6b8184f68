/**
 * What membership listens to (signal-only): the outcome of each period's charge. Re-exported from
 * `./subscriptions` so the bus registry finds it. Payment events of purchases reach the member's
 * workflow too; it ignores every charge key but its current period's.
 */
import { subscribe } from '../bus/contract';
import { PaymentCaptured, PaymentFailed } from '../payment/contract';
import { MembershipWorkflow } from './contract';
import { membershipWorkflowId } from './membership-contract';

const membership = { ...MembershipWorkflow, start: false } as const;

export const membershipSubscriptions = [
  subscribe(PaymentCaptured, { ...membership, name: 'orders.membership-track-payment.captured', workflowId: (e) => membershipWorkflowId(e.data.customerId) }),
  subscribe(PaymentFailed, { ...membership, name: 'orders.membership-track-payment.failed', workflowId: (e) => membershipWorkflowId(e.data.customerId) }),
];
