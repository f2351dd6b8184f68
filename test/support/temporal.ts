/**
 * Temporal helpers for tests. The dev server is started once per run by global-setup.ts.
 */
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findProvisioned } from '../../scripts/provision';
import { CustomerIdAttribute, OrderIdAttribute } from '../../workflows/search-attributes';
import Long from 'long';
import { recordAllHistories, recordingDir } from './history-recorder';

/** Test env connected to the shared dev server (real server, no time skipping). Call `teardown()` when done. */
export async function connectTestEnv(): Promise<TestWorkflowEnvironment> {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set; is jest running with test/support/global-setup.ts?');
  return TestWorkflowEnvironment.createFromExistingServer({ address });
}

/**
 * A dev server (the provisioned CLI, the box search attributes): the run's shared one
 * (global-setup.ts, with its Web UI), or a test's own, for a test that changes server-wide state
 * the others must not meet: a drill's worker deployments route the domains' task queues to
 * versioned workers only. Call `teardown()` when done.
 */
export async function createOwnDevServer(opts: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  const cliPath = findProvisioned().temporalCliPath;
  return TestWorkflowEnvironment.createLocal({
    server: {
      ...(cliPath ? { executable: { type: 'existing-path' as const, path: cliPath } } : {}),
      ip: '127.0.0.1',
      ...(opts.uiPort ? { uiPort: opts.uiPort } : {}),
      searchAttributes: [OrderIdAttribute, CustomerIdAttribute],
    },
  });
}

/** A fresh time-skipping test server (provisioned Java wrapper when available, else SDK download). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = process.env.CLOSETFLOW_TEST_SERVER_PATH;
  const env = await TestWorkflowEnvironment.createTimeSkipping(path ? { server: { executable: { type: 'existing-path', path } } } : undefined);
  if (recordingDir()) {
    // Recording for the replay gate: this server's histories are gone once it stops.
    const teardown = env.teardown.bind(env);
    const suite = (globalThis as { expect?: { getState(): { testPath?: string } } }).expect?.getState().testPath ?? 'time-skipping';
    env.teardown = async () => {
      try {
        await recordAllHistories(env.client, suite);
      } finally {
        await teardown();
      }
    };
  }
  return env;
}

/** Pre-built bundle of every registered domain's workflows for `Worker.create({ workflowBundle: workflowBundle() })`. */
export function workflowBundle(): { codePath: string } {
  const codePath = process.env.CLOSETFLOW_WORKFLOW_BUNDLE;
  if (!codePath) throw new Error('CLOSETFLOW_WORKFLOW_BUNDLE is not set (the global setup of the test run did not bundle the workflows)');
  return { codePath };
}

/** Resets a workflow to its first workflow task, as `temporal workflow reset --type FirstWorkflowTask` does; answers the new run id. */
export async function resetToFirstWorkflowTask(client: Client, workflowId: string, reason: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const firstTask = (history.events ?? []).find((e) => e.workflowTaskCompletedEventAttributes);
  const { runId } = (await client.workflowService.resetWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId },
    workflowTaskFinishEventId: Long.fromValue(firstTask!.eventId!),
    reason,
    requestId: `${workflowId}:${reason}`,
  })) as { runId?: string | null };
  return runId!;
}
