/** Public contract of warehouse integration: the bridge to the third-party WMS. */
import { z } from 'zod';
import { defineEvent } from '../bus/contract';
import { pickedItemSchema } from '../styling/contract';

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

export interface WarehouseInstructionWorkflowResult {
  outcome: 'handed-over' | 'cancelled';
  instructionId?: string;
}

/** Workflow id of the return pickup asked of the WMS for one order. */
export const returnPickupWorkflowId = (orderId: string): string => `wms-return:${orderId}`;

export interface ReturnPickupWorkflowResult {
  instructionId: string;
  status: 'return_requested';
}
