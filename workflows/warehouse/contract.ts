/** Public contract of the warehouse domain: a shipment's physical progress, from WMS callbacks. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import { defineEvent } from '../bus/contract';
import { defineWorkflow } from '../workflow-ref';

/** Task queue of the warehouse worker. */
export const WAREHOUSE_TASK_QUEUE = 'warehouse';

/** Workflow id of the shipment of one order. */
export const shipmentWorkflowId = (orderId: string): string => `shipment:${orderId}`;

/** How long the WMS may take from instruction to "shipped" before shipment.delayed is published. */
export const SHIPMENT_SLA_MS = 2 * 24 * 60 * 60 * 1000;

/** Shipment milestones in the order they happen; callbacks may arrive out of this order. */
export const SHIPMENT_MILESTONES = ['requested', 'picked', 'packed', 'shipped', 'delivered'] as const;
export type ShipmentMilestone = (typeof SHIPMENT_MILESTONES)[number];

/** A verified WMS callback, as the webhook endpoint forwards it. */
export interface WmsCallbackSignal {
  callbackId: string;
  instructionId: string;
  orderId: string;
  customerId: string;
  status: Exclude<ShipmentMilestone, 'requested'>;
  occurredAt: string;
  trackingNumber?: string;
}
/** Delivers a verified WMS callback to the shipment workflow. */
export const wmsCallbackSignal = defineSignal<[WmsCallbackSignal]>('wmsCallback');

/** Current state of a shipment. */
export interface ShipmentState {
  orderId: string;
  milestone: ShipmentMilestone;
  trackingNumber?: string;
  delayed: boolean;
  callbacksApplied: number;
  callbacksIgnored: number;
}
/** Current state of the shipment, answered by the running workflow. */
export const shipmentStateQuery = defineQuery<ShipmentState>('state');

/** Input of shipmentWorkflow: the event that started it, or (if a callback beat the event) the order. */
export interface ShipmentWorkflowInput {
  event?: import('../bus/contract').EventEnvelope<import('../warehouse-integration/contract').ShipmentRequestedData>;
  orderId?: string;
  customerId?: string;
}

export const shipmentShippedData = z.object({ orderId: z.string(), customerId: z.string(), trackingNumber: z.string(), shippedAt: z.string() });
/** The box left the warehouse. */
export const ShipmentShipped = defineEvent('shipment.shipped', 'warehouse', shipmentShippedData);
export type ShipmentShippedData = z.infer<typeof shipmentShippedData>;

export const shipmentDeliveredData = z.object({ orderId: z.string(), customerId: z.string(), deliveredAt: z.string() });
/** The box reached the member. */
export const ShipmentDelivered = defineEvent('shipment.delivered', 'warehouse', shipmentDeliveredData);
export type ShipmentDeliveredData = z.infer<typeof shipmentDeliveredData>;

export const shipmentDelayedData = z.object({ orderId: z.string(), customerId: z.string(), slaMs: z.number(), milestone: z.string() });
/** The box has not shipped within the SLA. */
export const ShipmentDelayed = defineEvent('shipment.delayed', 'warehouse', shipmentDelayedData);
export type ShipmentDelayedData = z.infer<typeof shipmentDelayedData>;

export interface ShipmentWorkflowResult {
  milestone: ShipmentMilestone;
  outcome: 'delivered' | 'cancelled';
}

export const returnArrivedData = z.object({ orderId: z.string(), customerId: z.string(), instructionId: z.string() });
/** The box came back to the warehouse (id `warehouse:<orderId>:return-arrived`). */
export const ReturnArrived = defineEvent('return.arrived', 'warehouse', returnArrivedData);
export type ReturnArrivedData = z.infer<typeof returnArrivedData>;

/** Workflow id of the receipt of a returned box: one per order, so duplicate WMS callbacks start nothing. */
export const returnReceiptWorkflowId = (orderId: string): string => `return-receipt:${orderId}`;

/** Input of returnReceiptWorkflow, from the verified `return_arrived` WMS callback. */
export interface ReturnReceiptInput {
  orderId: string;
  customerId: string;
  instructionId: string;
  callbackId: string;
}
/** A duplicate `return_arrived` callback reaching a receipt that is still running (ignored). */
export const returnArrivalSignal = defineSignal<[{ callbackId: string }]>('returnArrival');

/** What returnReceiptWorkflow answers: the id of the `return.arrived` it published. */
export interface ReturnReceiptResult {
  published: string;
}

/** Follows one box through the warehouse by its WMS callbacks, started by the first callback. */
export const ShipmentWorkflow = defineWorkflow<ShipmentWorkflowInput, ShipmentWorkflowResult>('shipmentWorkflow', 'warehouse', WAREHOUSE_TASK_QUEUE);
/** Receives one returned box at the warehouse, started by the `return_arrived` callback. */
export const ReturnReceiptWorkflow = defineWorkflow<ReturnReceiptInput, ReturnReceiptResult>('returnReceiptWorkflow', 'warehouse', WAREHOUSE_TASK_QUEUE);

// Activities: what the warehouse worker hosts (implemented in activities/warehouse/).

export interface RecordShipmentInput {
  orderId: string;
  customerId: string;
  instructionId?: string;
  milestone: ShipmentMilestone | 'cancelled';
  trackingNumber?: string;
}
export interface RecordShipmentResult {
  milestone: string;
}

/** The warehouse domain's activities. */
export interface WarehouseActivities {
  /** Upserts the shipment's read-model row (idempotent). */
  recordShipment(input: RecordShipmentInput): Promise<RecordShipmentResult>;
}
