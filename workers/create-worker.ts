/** Builds one domain's Temporal worker; used by the worker process and by tests. */
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { DOMAIN_WORKERS, type DomainWorkerName, type WorkerDeps } from './domains';

export interface CreateDomainWorkerInput extends WorkerDeps {
  domain: DomainWorkerName;
  connection: NativeConnection;
  namespace: string;
  /** A prebuilt bundle (`npm start` and tests build it once); otherwise workflows/index.ts is bundled. */
  workflowBundlePath?: string;
  /** Overrides, e.g. a test's own task queue suffix is not needed: tests use the real queues. */
  options?: Partial<WorkerOptions>;
}

/** Creates the worker for one domain: its task queue, its activities, and (if any) its workflows. */
export async function createDomainWorker(input: CreateDomainWorkerInput): Promise<Worker> {
  const spec = DOMAIN_WORKERS[input.domain];
  const workflowSource = !spec.workflows
    ? {}
    : input.workflowBundlePath
      ? { workflowBundle: { codePath: input.workflowBundlePath } }
      : { workflowsPath: require.resolve('../workflows') };
  return Worker.create({
    connection: input.connection,
    namespace: input.namespace,
    taskQueue: spec.taskQueue,
    activities: spec.activities(input),
    ...workflowSource,
    identity: `${input.domain}@${process.pid}`,
    shutdownGraceTime: '10 seconds',
    ...input.options,
  });
}
