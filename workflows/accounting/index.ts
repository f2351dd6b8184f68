/** The accounting domain's workflows (registered in workers/domains.ts). */
export { ledgerWorkflow, monthlyCloseWorkflow, monthlyCloseScheduledWorkflow } from './workflows';
