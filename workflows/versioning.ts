/**
 * Declares a workflow type long-lived: on a versioned worker (Worker Deployment Versioning,
 * workers/deployment.ts) it moves to each new current build on its next task, instead of being
 * pinned to the build it started on for months. Its code changes must then be replay-compatible:
 * behind `patched()`, checked by the replay gate (test/workflows/history-gate.test.ts).
 *
 * Only on a versioned worker: core refuses a versioning behaviour from an unversioned one (tests,
 * a single box), so the option is given only when the task runs on a deployment version.
 */
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';

/** Marks `fn` AUTO_UPGRADE when it runs on a versioned worker (PINNED is every worker's default). */
export function autoUpgrade<A extends unknown[], R>(fn: (...args: A) => Promise<R>): void {
  setWorkflowOptions(() => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'AUTO_UPGRADE' } : {}), fn);
}
