/** The payment domain's workflows (registered in workers/domains.ts). */
export { chargeWorkflow, refundWorkflow } from './workflows';
