/** The returns domain's workflows (registered in workers/domains.ts). */
export { returnWorkflow } from './workflows';
