/**
 * The orders domain's workflows, bundled for the orders worker (registered in workers/domains.ts).
 * Both live long (a box a month, a membership as long as the member): on a versioned worker they
 * move to each new build on their next task instead of holding the old one up for months, so
 * every change to them goes behind `patched()` (workers/deployment.ts).
 */
import { autoUpgrade } from '../versioning';
import { membershipWorkflow } from './membership';
import { orderWorkflow } from './workflows';

autoUpgrade(orderWorkflow);
autoUpgrade(membershipWorkflow);

export { membershipWorkflow, orderWorkflow };
