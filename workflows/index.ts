/** Every workflow type, for the workflow bundle. Each domain worker polls only its own task queue. */
export { orderWorkflow } from './orders/workflows';
export { stylingWorkflow } from './styling/workflows';
export { reservationWorkflow } from './inventory/workflows';
export { warehouseInstructionWorkflow } from './warehouse-integration/workflows';
export { shipmentWorkflow } from './warehouse/workflows';
export { ledgerWorkflow, monthlyCloseWorkflow, monthlyCloseScheduledWorkflow } from './accounting/workflows';
export { membershipWorkflow } from './orders/membership';
export { chargeWorkflow, refundWorkflow } from './payment/workflows';
