/** The styling domain's workflows (registered in workers/domains.ts); short, so pinned to the build they start on (workers/deployment.ts). */
export { stylingWorkflow } from './workflows';
