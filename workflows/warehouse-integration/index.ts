/** The warehouse-integration domain's workflows (registered in workers/domains.ts). */
export { warehouseInstructionWorkflow, returnPickupWorkflow } from './workflows';
