/** What payment listens to: requests to charge, from other domains, and the fate of express boxes. */
import { subscribe } from '../bus/contract';
import { MembershipRenewalDue, OrderPlaced, PurchaseRequested } from '../orders/contract';
import { ShipmentShipped } from '../warehouse/contract';
import { ShipmentCancelled } from '../warehouse-integration/contract';
import { ChargeWorkflow, chargeWorkflowId, membershipChargeKey, purchaseChargeKey, shippingChargeKey } from './contract';

const charge = { ...ChargeWorkflow, start: true } as const;

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
  subscribe(OrderPlaced, {
    ...charge,
    name: 'payment.charge-express-shipping',
    when: (e) => e.data.shipping === 'express' && !!e.data.shippingFeeCents,
    workflowId: (e) => chargeWorkflowId(shippingChargeKey(e.data.orderId)),
    summary: (e) => `Charge the express shipping fee of box ${e.data.orderId} (${e.data.shippingFeeCents} cents)`,
  }),
  // The shipping fee's charge follows its box (signal only; standard boxes have no such charge,
  // the bus records those deliveries as rejected): a confirmed cancel stops or refunds it, the
  // shipment ends it.
  subscribe(ShipmentCancelled, {
    ...charge,
    start: false,
    name: 'payment.shipping-fee-on-cancel',
    workflowId: (e) => chargeWorkflowId(shippingChargeKey(e.data.orderId)),
  }),
  subscribe(ShipmentShipped, {
    ...charge,
    start: false,
    name: 'payment.shipping-fee-on-shipped',
    workflowId: (e) => chargeWorkflowId(shippingChargeKey(e.data.orderId)),
  }),
];
