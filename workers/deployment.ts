/**
 * Worker Deployment Versioning, per domain worker (docs/operations.md, "Deploying new workflow
 * code"). Each domain is one Worker Deployment (`closetflow-<domain>`); each build of its code is
 * a version of it. A workflow is PINNED to the build it started on (a short workflow finishes on the
 * code it began with, so it never meets a change) unless its domain's index declares it
 * AUTO_UPGRADE (the long-lived ones: they move to the current build on their next task, and their
 * changes are guarded by `patched()`). New workflows start on the deployment's current version, or
 * the ramping one for a share of starts; an old version is retired once no pinned workflow is left
 * on it (`workflowsOnBuild`).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import type { Config } from '../config';

/** The Worker Deployment of one domain's workers. */
export const deploymentNameOf = (config: Pick<Config, 'WORKER_DEPLOYMENT_PREFIX'>, domain: string): string => `${config.WORKER_DEPLOYMENT_PREFIX}-${domain}`;

/** The worker's deployment options: versioned when a build id is configured, unversioned otherwise. */
export function workerDeploymentOptionsFor(
  config: Pick<Config, 'WORKER_BUILD_ID' | 'WORKER_DEPLOYMENT_PREFIX'>,
  domain: string,
): WorkerDeploymentOptions | undefined {
  if (!config.WORKER_BUILD_ID) return undefined;
  return {
    version: { deploymentName: deploymentNameOf(config, domain), buildId: config.WORKER_BUILD_ID },
    useWorkerVersioning: true,
    // Safe by default: a workflow not declared otherwise finishes on the build it started on.
    defaultVersioningBehavior: 'PINNED',
  };
}

/** What a deployment runs: its current and ramping builds and the versions it knows. */
export interface DeploymentState {
  deploymentName: string;
  currentBuildId?: string;
  rampingBuildId?: string;
  rampingPercentage?: number;
  versions: { buildId: string; status: string; drainage?: string }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The deployment's routing and versions; undefined if no versioned worker ever polled for it. */
export async function describeDeployment(client: Client, deploymentName: string): Promise<DeploymentState | undefined> {
  try {
    const { workerDeploymentInfo: info } = await client.workflowService.describeWorkerDeployment({ namespace: client.options.namespace, deploymentName });
    const routing = info?.routingConfig;
    return {
      deploymentName,
      currentBuildId: routing?.currentDeploymentVersion?.buildId || undefined,
      rampingBuildId: routing?.rampingDeploymentVersion?.buildId || undefined,
      rampingPercentage: routing?.rampingVersionPercentage || undefined,
      versions: (info?.versionSummaries ?? []).map((v) => ({
        buildId: v.deploymentVersion?.buildId ?? '',
        status: (temporal.api.enums.v1.WorkerDeploymentVersionStatus[v.status ?? 0] ?? String(v.status))
          .replace(/^WORKER_DEPLOYMENT_VERSION_STATUS_/, '')
          .toLowerCase(),
        ...(v.drainageStatus
          ? {
              drainage: (temporal.api.enums.v1.VersionDrainageStatus[v.drainageStatus] ?? String(v.drainageStatus))
                .replace(/^VERSION_DRAINAGE_STATUS_/, '')
                .toLowerCase(),
            }
          : {}),
      })),
    };
  } catch (err) {
    if ((err as { code?: number }).code === 5) return undefined; // NOT_FOUND
    throw err;
  }
}

/**
 * Waits until a worker of `buildId` has polled (the server knows a version only from its pollers),
 * so routing is never pointed at a build that no worker runs.
 */
async function awaitVersion(client: Client, deploymentName: string, buildId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await describeDeployment(client, deploymentName);
    if (state?.versions.some((v) => v.buildId === buildId)) return;
    if (Date.now() > deadline) throw new Error(`no worker of ${deploymentName} build ${buildId} has polled within ${timeoutMs} ms: start its workers first`);
    await sleep(500);
  }
}

/** Makes `buildId` the deployment's current version: new workflows start on it, auto-upgrading ones move to it. */
export async function setCurrentBuild(
  client: Client,
  deploymentName: string,
  buildId: string,
  opts: { timeoutMs?: number; identity?: string } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  await awaitVersion(client, deploymentName, buildId, timeoutMs);
  await untilEveryTaskQueuePolls(timeoutMs, () =>
    client.workflowService.setWorkerDeploymentCurrentVersion({
      namespace: client.options.namespace,
      deploymentName,
      buildId,
      identity: opts.identity ?? 'closetflow-deploy',
    }),
  );
}

/**
 * Retries a routing change the server refuses because the new build does not yet poll every task
 * queue the current one does (a worker registers its workflow and activity pollers one after the
 * other): routing it then would leave those queues unversioned. Any other refusal is final.
 */
async function untilEveryTaskQueuePolls(timeoutMs: number, change: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await change();
      return;
    } catch (err) {
      const { code, message } = err as { code?: number; message?: string };
      if (code !== 9 || !/missing active task queues/.test(message ?? '') || Date.now() > deadline) throw err; // 9: FAILED_PRECONDITION
      await sleep(500);
    }
  }
}

/** Sends `percentage` of new workflows (and auto-upgrading ones) to `buildId`; 0 or an empty build stops the ramp. */
export async function setRampingBuild(
  client: Client,
  deploymentName: string,
  buildId: string,
  percentage: number,
  opts: { timeoutMs?: number; identity?: string } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (buildId) await awaitVersion(client, deploymentName, buildId, timeoutMs);
  await untilEveryTaskQueuePolls(timeoutMs, () =>
    client.workflowService.setWorkerDeploymentRampingVersion({
      namespace: client.options.namespace,
      deploymentName,
      buildId,
      percentage,
      identity: opts.identity ?? 'closetflow-deploy',
    }),
  );
}

/**
 * The visibility query for running workflows still on one build. Pinned ones stay there until they
 * finish; auto-upgrading ones leave on their next task. Zero (and the version's drainage `drained`
 * in describeDeployment) means the build's workers can be stopped.
 */
export const workflowsOnBuildQuery = (deploymentName: string, buildId: string): string =>
  `TemporalWorkerDeploymentVersion = '${deploymentName}:${buildId}' AND ExecutionStatus = 'Running'`;

/** How many running workflows are still on `buildId` of the deployment. */
export async function workflowsOnBuild(client: Client, deploymentName: string, buildId: string): Promise<number> {
  return (await client.workflow.count(workflowsOnBuildQuery(deploymentName, buildId))).count;
}
