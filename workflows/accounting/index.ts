/**
 * The accounting domain's workflows (registered in workers/domains.ts). A ledger lives as long as
 * its member: it auto-upgrades to each new build (changes behind `patched()`; continue-as-new is
 * where a run starts clean on new code). The closes are short and stay pinned (workers/deployment.ts).
 */
import { autoUpgrade } from '../versioning';
import { ledgerWorkflow, monthlyCloseScheduledWorkflow, monthlyCloseWorkflow } from './workflows';

autoUpgrade(ledgerWorkflow);

export { ledgerWorkflow, monthlyCloseScheduledWorkflow, monthlyCloseWorkflow };
