/** The inventory domain's workflows (registered in workers/domains.ts). */
export { reservationWorkflow, saleWorkflow } from './workflows';
export { restockWorkflow } from './restock';
