/** The styling domain's workflows (registered in workers/domains.ts). */
export { stylingWorkflow } from './workflows';
