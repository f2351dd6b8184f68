/** A worker for the test-only workflows (test/support/test-workflows.ts) on its own task queue. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createBusActivities } from '../../activities/bus';
import { loadRegistry, type Registry } from '../../workers/registry';
import { connectDatabase } from '../../db/client';
import type { EventEnvelope } from '../../workflows/bus/contract';
import { CustomerIdAttribute } from '../../workflows/search-attributes';
import { TEST_WORKFLOWS_TASK_QUEUE, TestPing, testSubscriptions, type EventToPublish } from './test-events';

export interface TestWorkflowsWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/**
 * Bundles and runs the test workflows (a few seconds: webpack) until `stop()`. Like every domain
 * worker it hosts the event layer's activities, which its workflows publish through as local activities.
 */
export async function startTestWorkflowsWorker(
  env: TestWorkflowEnvironment,
  { registry = loadRegistry() }: { registry?: Registry } = {},
): Promise<TestWorkflowsWorker> {
  const database = connectDatabase(process.env.DATABASE_URL!, { max: 3 });
  const worker = await Worker.create({
    activities: createBusActivities({ db: database.db, client: env.client, registry }),
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: TEST_WORKFLOWS_TASK_QUEUE,
    workflowsPath: require.resolve('./test-workflows'),
    identity: `test-workflows@${process.pid}`,
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await database.close();
    },
  };
}

/** The real registry plus the `test.ping` event and its two subscriptions. */
export function registryWithTestEvents(): Registry {
  const registry = loadRegistry();
  return { events: new Map([...registry.events, [TestPing.type, TestPing]]), subscriptions: [...registry.subscriptions, ...testSubscriptions] };
}

/** Runs `publishEventsWorkflow` to its end: every event is recorded and delivered when this resolves. */
export async function publishThroughWorkflow(
  env: TestWorkflowEnvironment,
  events: EventToPublish[],
  opts: { workflowId: string; customerId?: string },
): Promise<EventEnvelope[]> {
  return env.client.workflow.execute<(input: { events: EventToPublish[] }) => Promise<EventEnvelope[]>>('publishEventsWorkflow', {
    workflowId: opts.workflowId,
    taskQueue: TEST_WORKFLOWS_TASK_QUEUE,
    args: [{ events }],
    typedSearchAttributes: opts.customerId ? [{ key: CustomerIdAttribute, value: opts.customerId }] : [],
  });
}
