/** What warehouse integration listens to: reserved boxes to hand over, and cancellations. */
import { subscribe } from '../bus/contract';
import { InventoryReserved } from '../inventory/contract';
import { OrderCancelled, ReturnRequested } from '../orders/contract';
import { ShipmentShipped } from '../warehouse/contract';
import { WAREHOUSE_INTEGRATION_TASK_QUEUE, returnPickupWorkflowId, wmsInstructionWorkflowId } from './contract';

const instruction = { domain: 'warehouse-integration', workflowType: 'warehouseInstructionWorkflow', taskQueue: WAREHOUSE_INTEGRATION_TASK_QUEUE } as const;

export const warehouseIntegrationSubscriptions = [
  subscribe(InventoryReserved, {
    ...instruction,
    name: 'warehouse-integration.instruct-wms',
    workflowId: (e) => wmsInstructionWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Send box ${e.data.orderId} (${e.data.items.length} items) to the WMS`,
  }),
  // start: true leaves a tombstone when the cancel comes first, so a late reservation cannot ship.
  subscribe(OrderCancelled, { ...instruction, name: 'warehouse-integration.cancel-instruction', workflowId: (e) => wmsInstructionWorkflowId(e.data.orderId), start: true }),
  subscribe(ShipmentShipped, { ...instruction, name: 'warehouse-integration.done-on-shipped', workflowId: (e) => wmsInstructionWorkflowId(e.data.orderId), start: false }),
];

/** A member's return request becomes a pickup at the WMS. */
export const returnPickupSubscriptions = [
  subscribe(ReturnRequested, {
    domain: 'warehouse-integration',
    workflowType: 'returnPickupWorkflow',
    taskQueue: WAREHOUSE_INTEGRATION_TASK_QUEUE,
    name: 'warehouse-integration.request-return-pickup',
    workflowId: (e) => returnPickupWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Ask the WMS to collect box ${e.data.orderId}`,
  }),
];
