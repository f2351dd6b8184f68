/** Builds one domain's Temporal worker; used by the worker process and by tests. */
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createBusActivities } from '../activities/bus';
import { loadRegistry } from './registry';
import type { Tracing } from '../observability/tracing';
import { workerDeploymentOptionsFor } from './deployment';
import { DOMAIN_WORKERS, type DomainWorkerName, type WorkerDeps } from './domains';
import { workerObservabilityOptions } from './observability';
import { workflowBundleOptions } from './workflow-bundle';

export interface CreateDomainWorkerInput extends WorkerDeps {
  domain: DomainWorkerName;
  connection: NativeConnection;
  namespace: string;
  /** A prebuilt bundle (`npm start` and tests build it once); otherwise every registered domain's workflows are bundled (workers/workflow-bundle.ts). */
  workflowBundlePath?: string;
  /** Traces activities and workflows into this tracing's span processor; unset: tracing off. */
  tracing?: Tracing;
  /** Overrides, e.g. a test's own task queue suffix is not needed: tests use the real queues. */
  options?: Partial<WorkerOptions>;
}

/** Creates the worker for one domain: its task queue, its activities, and (if any) its workflows. */
export async function createDomainWorker(input: CreateDomainWorkerInput): Promise<Worker> {
  const spec = DOMAIN_WORKERS[input.domain];
  const workflowSource = input.workflowBundlePath
    ? { workflowBundle: { codePath: input.workflowBundlePath } }
    : {
        workflowsPath: workflowBundleOptions({ tracing: !!input.tracing }).workflowsPath,
        bundlerOptions: { preloadModules: workflowBundleOptions({ tracing: !!input.tracing }).preloadModules },
      };
  return Worker.create({
    connection: input.connection,
    namespace: input.namespace,
    taskQueue: spec.taskQueue,
    // Every worker that runs workflows hosts the event layer's activities: its workflows publish
    // through them as local activities (workflows/bus/publish.ts).
    activities: {
      ...createBusActivities({ db: input.database.db, client: input.client, registry: input.registry ?? loadRegistry() }),
      ...spec.activities(input),
    },
    ...workflowSource,
    identity: `${input.domain}@${process.pid}`,
    // Versioned when the configuration names a build (workers/deployment.ts); unversioned otherwise.
    workerDeploymentOptions: workerDeploymentOptionsFor(input.config, input.domain),
    shutdownGraceTime: '10 seconds',
    maxCachedWorkflows: input.config.WORKER_MAX_CACHED_WORKFLOWS,
    workflowThreadPoolSize: input.config.WORKER_WORKFLOW_THREADS,
    ...workerObservabilityOptions({ domain: input.domain, tracing: input.tracing, prebuiltBundle: 'workflowBundle' in workflowSource }),
    ...input.options,
  });
}
