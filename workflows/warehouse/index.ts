/** The warehouse domain's workflows (registered in workers/domains.ts). */
export { shipmentWorkflow, returnReceiptWorkflow } from './workflows';
