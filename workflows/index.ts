/** Every workflow type, for the workflow bundle. Each domain worker polls only its own task queue. */
export { orderWorkflow } from './orders/workflows';
export { stylingWorkflow } from './styling/workflows';
export { reservationWorkflow, saleWorkflow } from './inventory/workflows';
export { warehouseInstructionWorkflow, returnPickupWorkflow } from './warehouse-integration/workflows';
export { shipmentWorkflow, returnReceiptWorkflow } from './warehouse/workflows';
export { returnWorkflow } from './returns/workflows';
export { restockWorkflow } from './inventory/restock';
export { ledgerWorkflow, monthlyCloseWorkflow, monthlyCloseScheduledWorkflow } from './accounting/workflows';
export { membershipWorkflow } from './orders/membership';
export { chargeWorkflow, refundWorkflow } from './payment/workflows';
