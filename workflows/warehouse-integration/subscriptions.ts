/** What warehouse integration listens to: reserved boxes to hand over, and cancellations. */
import { subscribe } from '../bus/contract';
import { InventoryReserved } from '../inventory/contract';
import { OrderCancelled, ReturnRequested } from '../orders/contract';
import { ShipmentShipped } from '../warehouse/contract';
import {
  ReturnPickupWorkflow,
  WarehouseInstructionWorkflow,
  refusedShipmentCancelWorkflowId,
  returnPickupWorkflowId,
  wmsInstructionWorkflowId,
} from './contract';

const instruction = WarehouseInstructionWorkflow;

export const warehouseIntegrationSubscriptions = [
  subscribe(InventoryReserved, {
    ...instruction,
    name: 'warehouse-integration.instruct-wms',
    workflowId: (e) => wmsInstructionWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Send box ${e.data.orderId} (${e.data.items.length} items) to the WMS`,
  }),
  // start: true leaves a tombstone when the cancel comes first, so a late reservation cannot ship.
  subscribe(OrderCancelled, {
    ...instruction,
    name: 'warehouse-integration.cancel-instruction',
    workflowId: (e) => wmsInstructionWorkflowId(e.data.orderId),
    start: true,
  }),
  // The instruction workflow of a box whose address the WMS refused has failed (waiting for ops)
  // and cannot take the cancel: a run of its own confirms it, so stock and money are let go.
  subscribe(OrderCancelled, {
    ...instruction,
    name: 'warehouse-integration.cancel-refused-instruction',
    when: (e) => e.data.afterShipmentRejected === true,
    workflowId: (e) => refusedShipmentCancelWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Confirm the cancel of box ${e.data.orderId} (its instruction was refused)`,
  }),
  subscribe(ShipmentShipped, {
    ...instruction,
    name: 'warehouse-integration.done-on-shipped',
    workflowId: (e) => wmsInstructionWorkflowId(e.data.orderId),
    start: false,
  }),
];

/** A member's return request becomes a pickup at the WMS. */
export const returnPickupSubscriptions = [
  subscribe(ReturnRequested, {
    ...ReturnPickupWorkflow,
    name: 'warehouse-integration.request-return-pickup',
    workflowId: (e) => returnPickupWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Ask the WMS to collect box ${e.data.orderId}`,
  }),
];
