/**
 * The returns domain's workflow (registered in workers/domains.ts). A rental window lasts weeks:
 * it auto-upgrades to each new build, its changes behind `patched()` (workers/deployment.ts).
 */
import { autoUpgrade } from '../versioning';
import { returnWorkflow } from './workflows';

autoUpgrade(returnWorkflow);

export { returnWorkflow };
