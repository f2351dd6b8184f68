/** Public contract of the orders domain (customer-facing orders). */
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { defineEvent } from '../bus/contract';
import { boxSearchAttributes } from '../search-attributes';
import { defineWorkflow } from '../workflow-ref';
import type { MembershipStatus, MembershipWorkflowInput, MembershipWorkflowResult } from './membership-contract';

/** Task queue of the orders worker. */
export const ORDERS_TASK_QUEUE = 'orders';

/** Workflow id of an order's workflow. */
export const orderWorkflowId = (orderId: string): string => `order:${orderId}`;

/** Shipping address as the member gave it. */
export const addressSchema = z.object({
  name: z.string().min(1).max(200),
  line1: z.string().min(1).max(200),
  line2: z.string().max(200).optional(),
  city: z.string().min(1).max(100),
  postcode: z.string().min(1).max(20),
  country: z.string().length(2),
});
export type Address = z.infer<typeof addressSchema>;

/** Lifecycle of an order, as the read model and the detail query report it. */
export const ORDER_STATUSES = [
  'placed',
  'styled',
  'reserved',
  'awaiting_shipment',
  'address_rejected',
  'shipped',
  'delivered',
  'return_requested',
  'returned',
  'closed',
  'cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Statuses from which a member may still cancel: nothing has left the warehouse. */
export const CANCELLABLE_STATUSES: readonly OrderStatus[] = ['placed', 'styled', 'reserved', 'awaiting_shipment', 'address_rejected'];

/** How a box travels to the member: express costs a fee, charged when the order is placed. */
export const SHIPPING_OPTIONS = ['standard', 'express'] as const;
export type ShippingOption = (typeof SHIPPING_OPTIONS)[number];

export const orderPlacedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  size: z.string(),
  categories: z.array(z.string()).min(1),
  itemCount: z.number().int().min(1),
  address: addressSchema,
  /** Absent: standard. */
  shipping: z.enum(SHIPPING_OPTIONS).optional(),
  /** The express fee quoted to the member (the API's EXPRESS_SHIPPING_FEE_CENTS), present with express. */
  shippingFeeCents: z.number().int().positive().optional(),
});
/** A member placed an order for a box. */
export const OrderPlaced = defineEvent('order.placed', 'orders', orderPlacedData);
export type OrderPlacedData = z.infer<typeof orderPlacedData>;

export const orderCancelledData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  reason: z.string(),
  cancelledBy: z.enum(['customer', 'system']),
  /** The WMS had refused the box's instruction (status address_rejected) when the cancel came. */
  afterShipmentRejected: z.boolean().optional(),
});
/**
 * The order is to be cancelled before shipment: styling stops, warehouse integration cancels the
 * WMS instruction and announces the outcome (`shipment.cancelled`, or `shipment.cancel_rejected`
 * when the box had already left). Stock and money are let go only on `shipment.cancelled`.
 */
export const OrderCancelled = defineEvent('order.cancelled', 'orders', orderCancelledData);
export type OrderCancelledData = z.infer<typeof orderCancelledData>;

/** Input of orderWorkflow: the accepted order. */
export type OrderWorkflowInput = OrderPlacedData;
/** Result of orderWorkflow: how the order ended. */
export interface OrderWorkflowResult {
  status: OrderStatus;
  reason?: string;
}

/** What the detail query returns. */
export interface OrderDetail {
  orderId: string;
  customerId: string;
  status: OrderStatus;
  statusReason?: string;
  itemIds: string[];
  trackingNumber?: string;
  /** Items the member asked to buy (purchase.requested seen) and items actually sold (item.sold). */
  purchaseRequestedItemIds?: string[];
  purchasedItemIds?: string[];
  /** Why the member's cancel did not happen (it reached the WMS after the box had left). */
  cancelRejected?: string;
  /** How the box travels (express: a fee was charged at placement). */
  shipping?: ShippingOption;
  lastEventId?: string;
}
/** Current detail of an order, answered by the running workflow. */
export const orderDetailQuery = defineQuery<OrderDetail>('detail');

export interface CancelOrderInput {
  reason: string;
}
export interface CancelOrderResult {
  /** `cancelled`, or the box's status when the cancel came too late (then `cancelRejected` says why). */
  status: OrderStatus;
  cancelRejected?: string;
}
/**
 * Cancels an order before shipment; the validator refuses once the box has shipped. Completes
 * when warehouse integration has answered: cancelled, or too late (the box had already left).
 */
export const cancelOrderUpdate = defineUpdate<CancelOrderResult, [CancelOrderInput]>('cancel');

/** Statuses in which the box is with the member: a return may be requested only from `delivered`. */
export const RETURNABLE_STATUSES: readonly OrderStatus[] = ['delivered'];
/** Statuses in which the member still has the box and may buy an item of it. */
export const PURCHASABLE_STATUSES: readonly OrderStatus[] = ['delivered', 'return_requested'];

export const returnRequestedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  requestedBy: z.enum(['member', 'deadline']),
});
/** The member asked to send the box back (id `order:<orderId>:return-requested`). */
export const ReturnRequested = defineEvent('return.requested', 'orders', returnRequestedData);
export type ReturnRequestedData = z.infer<typeof returnRequestedData>;

export const purchaseRequestedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  itemId: z.string(),
  priceCents: z.number().int().positive(),
  reason: z.enum(['member', 'overdue']),
});
/**
 * An item of a box is to be bought by its member (id `order:<orderId>:purchase:<itemId>`): by the
 * member's choice (orders) or because the box is overdue (returns). One id per item, so the two
 * paths can never charge an item twice.
 */
export const PurchaseRequested = defineEvent('purchase.requested', 'orders', purchaseRequestedData);
export type PurchaseRequestedData = z.infer<typeof purchaseRequestedData>;
/** Id of the purchase.requested event of one item: shared by the member and the overdue path. */
export const purchaseRequestedEventId = (orderId: string, itemId: string): string => `order:${orderId}:purchase:${itemId}`;

export interface RequestReturnResult {
  status: OrderStatus;
}
/** The member asks to return the box; the validator refuses unless the box is delivered and not yet returning. */
export const requestReturnUpdate = defineUpdate<RequestReturnResult, []>('requestReturn');

export interface PurchaseItemInput {
  itemId: string;
}
export interface PurchaseItemResult {
  itemId: string;
  priceCents: number;
  status: 'requested';
}
/** The member buys one item of the box; refused unless the box is with the member, holds the item, and it is not bought yet. */
export const purchaseItemUpdate = defineUpdate<PurchaseItemResult, [PurchaseItemInput]>('purchaseItem');

// Membership (monthly fee): workflow id, membership.renewal_due, query, input.
export * from './membership-contract';

/** The life of one order, started by the API's order-start relay. */
export const OrderWorkflow = defineWorkflow<OrderWorkflowInput, OrderWorkflowResult>('orderWorkflow', 'orders', ORDERS_TASK_QUEUE);
/**
 * How every start of an order's workflow looks, whoever starts it (the relay, or a call that finds
 * none yet). REJECT_DUPLICATE: the id is the order's, so a second start is refused, and a finished
 * order's workflow never runs again.
 */
export const orderWorkflowStartSpec = (input: OrderWorkflowInput) => ({
  workflowId: orderWorkflowId(input.orderId),
  workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  typedSearchAttributes: boxSearchAttributes(input.orderId, input.customerId),
  staticSummary: `Box ${input.orderId} for ${input.customerId} — ${input.itemCount} items, size ${input.size}`,
});
/** A member's subscription, started at signup; runs as long as the member (continue-as-new per period). */
export const MembershipWorkflow = defineWorkflow<MembershipWorkflowInput, MembershipWorkflowResult>('membershipWorkflow', 'orders', ORDERS_TASK_QUEUE);

// Activities: what the orders worker hosts, as workflow code calls them (implemented in activities/orders/).

export interface RecordOrderStatusInput {
  order: OrderPlacedData;
  status: OrderStatus;
  statusReason?: string | null;
  itemIds?: string[];
  trackingNumber?: string | null;
  purchasedItemIds?: string[];
}
export interface RecordOrderStatusResult {
  status: OrderStatus;
}
export interface RecordMembershipInput {
  customerId: string;
  status: MembershipStatus;
  period: string;
}

/** The orders domain's activities (local activities of orderWorkflow). */
export interface OrderActivities {
  /** Upserts the order's read-model row; the same transition writes the same row (idempotent). */
  recordOrderStatus(input: RecordOrderStatusInput): Promise<RecordOrderStatusResult>;
}

/** Membership's activities (local activities of membershipWorkflow, hosted by the orders worker). */
export interface MembershipActivities {
  /** Upserts the member's row; replaying the same transition writes the same row. */
  recordMembership(input: RecordMembershipInput): Promise<void>;
}
