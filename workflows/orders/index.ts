/** The orders domain's workflows, bundled for the orders worker (registered in workers/domains.ts). */
export { orderWorkflow } from './workflows';
export { membershipWorkflow } from './membership';
