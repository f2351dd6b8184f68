/** Public contract of warehouse integration: the bridge to the third-party WMS. */
import { z } from 'zod';
import { defineEvent } from '../bus/contract';
import { pickedItemSchema } from '../styling/contract';
import { defineWorkflow } from '../workflow-ref';
import type { EventTriggeredInput } from '../bus/contract';
import type { InventoryReservedData } from '../inventory/contract';
import type { OrderCancelledData, ReturnRequestedData } from '../orders/contract';

/** Task queue of the warehouse-integration worker. */
export const WAREHOUSE_INTEGRATION_TASK_QUEUE = 'warehouse-integration';

/** Workflow id of the WMS instruction of one order. */
export const wmsInstructionWorkflowId = (orderId: string): string => `wms:${orderId}`;

/** Idempotency key of the shipping instruction: one instruction per order, whatever retries or resets. */
export const shippingInstructionKey = (orderId: string): string => `wms:${orderId}:ship`;

export const shipmentRequestedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  instructionId: z.string(),
  items: z.array(pickedItemSchema),
});
/** The WMS accepted the shipping instruction. */
export const ShipmentRequested = defineEvent('shipment.requested', 'warehouse-integration', shipmentRequestedData);
export type ShipmentRequestedData = z.infer<typeof shipmentRequestedData>;

export const shipmentRejectedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  reason: z.string(),
});
/** The WMS refused the instruction for good (e.g. an undeliverable address); ops must act. */
export const ShipmentRejected = defineEvent('shipment.rejected', 'warehouse-integration', shipmentRejectedData);
export type ShipmentRejectedData = z.infer<typeof shipmentRejectedData>;

export const shipmentCancelledData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  /** The order's cancellation reason. */
  reason: z.string(),
  /** true: the WMS confirmed it cancelled an accepted instruction; false: no instruction was ever accepted. */
  instructionCancelled: z.boolean(),
});
/**
 * The cancel is final (id `wms:<orderId>:cancelled`): the WMS confirmed it, or it never had an
 * instruction for the box. Nothing will ship: stock may be released, money refunded.
 */
export const ShipmentCancelled = defineEvent('shipment.cancelled', 'warehouse-integration', shipmentCancelledData);
export type ShipmentCancelledData = z.infer<typeof shipmentCancelledData>;

export const shipmentCancelRejectedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  instructionId: z.string(),
  reason: z.string(),
});
/**
 * The cancel reached the WMS after the box had left (id `wms:<orderId>:cancel-rejected`): the box
 * is on its way and follows the normal path (shipped, delivered, returned).
 */
export const ShipmentCancelRejected = defineEvent('shipment.cancel_rejected', 'warehouse-integration', shipmentCancelRejectedData);
export type ShipmentCancelRejectedData = z.infer<typeof shipmentCancelRejectedData>;

/**
 * Workflow id of the cancel of a box whose instruction the WMS refused (the instruction workflow
 * failed, waiting for ops): this run confirms the cancel in its place.
 */
export const refusedShipmentCancelWorkflowId = (orderId: string): string => `wms-cancel:${orderId}`;

export interface WarehouseInstructionWorkflowResult {
  /** handed-over: the box left (also when a cancel came too late); cancelled: shipment.cancelled was published. */
  outcome: 'handed-over' | 'cancelled';
  instructionId?: string;
}

/** Workflow id of the return pickup asked of the WMS for one order. */
export const returnPickupWorkflowId = (orderId: string): string => `wms-return:${orderId}`;

export interface ReturnPickupWorkflowResult {
  instructionId: string;
  status: 'return_requested';
}

/** Sends one box's shipping instruction to the WMS (and its cancel), started by `inventory.reserved`. */
export const WarehouseInstructionWorkflow = defineWorkflow<EventTriggeredInput<InventoryReservedData | OrderCancelledData>, WarehouseInstructionWorkflowResult>(
  'warehouseInstructionWorkflow',
  'warehouse-integration',
  WAREHOUSE_INTEGRATION_TASK_QUEUE,
);
/** Asks the WMS to pick a box up for return, started by `return.requested`. */
export const ReturnPickupWorkflow = defineWorkflow<EventTriggeredInput<ReturnRequestedData>, ReturnPickupWorkflowResult>(
  'returnPickupWorkflow',
  'warehouse-integration',
  WAREHOUSE_INTEGRATION_TASK_QUEUE,
);

// Activities: what the warehouse-integration worker hosts (implemented in activities/warehouse-integration/).

export interface SendShippingInstructionInput {
  orderId: string;
  customerId: string;
  items: { itemId: string; sku: string }[];
}
export interface SendShippingInstructionResult {
  instructionId: string;
}
export interface CancelShippingInstructionInput {
  orderId: string;
}
export interface CancelShippingInstructionResult {
  /** already-shipped: the WMS answered 409, the box has left (the instruction stays `sent`). */
  outcome: 'cancelled' | 'nothing-to-cancel' | 'already-shipped';
  instructionId?: string;
}

/** The warehouse-integration domain's activities: the WMS side of a box. */
export interface WarehouseIntegrationActivities {
  /** Sends the box's shipping instruction once per idempotency key; an attempt in doubt is resolved with the WMS first. */
  sendShippingInstruction(input: SendShippingInstructionInput): Promise<SendShippingInstructionResult>;
  /** Asks the WMS to pick the box up for return. */
  requestReturnPickup(input: { orderId: string }): Promise<{ instructionId: string }>;
  /** Cancels the box's instruction at the WMS, or says the box has left. */
  cancelShippingInstruction(input: CancelShippingInstructionInput): Promise<CancelShippingInstructionResult>;
}
