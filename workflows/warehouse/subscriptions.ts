/** What the warehouse listens to: accepted instructions start a shipment; confirmed cancels stop it. */
import { subscribe } from '../bus/contract';
import { ShipmentCancelled, ShipmentRequested } from '../warehouse-integration/contract';
import { ShipmentWorkflow, shipmentWorkflowId } from './contract';

const shipment = ShipmentWorkflow;

export const warehouseSubscriptions = [
  subscribe(ShipmentRequested, {
    ...shipment,
    name: 'warehouse.follow-shipment',
    workflowId: (e) => shipmentWorkflowId(e.data.orderId),
    start: true,
    summary: (e) => `Ship box ${e.data.orderId} (WMS instruction ${e.data.instructionId})`,
  }),
  // Only a confirmed cancel stops following the box: after a cancel that came too late it ships.
  subscribe(ShipmentCancelled, { ...shipment, name: 'warehouse.stop-on-cancel', workflowId: (e) => shipmentWorkflowId(e.data.orderId), start: false }),
];
