/**
 * Typed references to workflows. A domain's contract declares each of its workflow types once
 * (`defineWorkflow`): its name, its task queue and its input and result types. Starts, child
 * starts and subscriptions name the reference, never a string, so a renamed workflow or a changed
 * input fails the type check at every caller (test/workflows/workflow-refs.test.ts checks every
 * reference against the workflow it names). Imports nothing Node-only: contracts use it.
 */
// Type-only: erased from the workflow bundle, so the sandbox never loads the client.
import type { WorkflowClient, WorkflowSignalWithStartOptions, WorkflowStartOptions } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, type WithWorkflowArgs } from '@temporalio/common';
import type { DomainName } from './bus/contract';

/** A workflow type: its registered name, the task queue its domain's worker polls, and its signature. */
export interface WorkflowRef<I = unknown, R = unknown> {
  readonly workflowType: string;
  readonly taskQueue: string;
  readonly domain: DomainName;
  /** Type-only: never set. Carries the input and result types to callers. */
  readonly signature?: (input: I) => Promise<R>;
}

/** Any workflow reference, whatever its input (for lists of references). */
export type AnyWorkflowRef = WorkflowRef<never, unknown>;

/** The workflow function type a reference stands for (what the Temporal client's generic start takes). */
export type WorkflowOf<W> = W extends WorkflowRef<infer I, infer R> ? (input: I) => Promise<R> : never;
/** The input of the workflow a reference stands for. */
export type WorkflowInputOf<W> = W extends WorkflowRef<infer I, unknown> ? I : never;

/** Declares a workflow type of `domain`, run by the worker polling `taskQueue`. */
export function defineWorkflow<I, R>(workflowType: string, domain: DomainName, taskQueue: string): WorkflowRef<I, R> {
  return { workflowType, domain, taskQueue };
}

/** A start's options besides the input and the task queue, which come from the reference. */
export type StartSpec<I, R> = Omit<WorkflowStartOptions<(input: I) => Promise<R>>, 'args' | 'taskQueue'>;
/** A signal-with-start's options besides the input and the task queue. */
export type SignalWithStartSpec<I, R, A extends unknown[]> = Omit<
  WithWorkflowArgs<(input: I) => Promise<R>, WorkflowSignalWithStartOptions<A>>,
  'args' | 'taskQueue'
>;

/** Starts the workflow `ref` names with `input` on its own task queue (Node side: `client.workflow`). */
export function startWorkflow<I, R>(client: WorkflowClient, ref: WorkflowRef<I, R>, input: I, spec: StartSpec<I, R>) {
  return client.start<(input: I) => Promise<R>>(ref.workflowType, { ...spec, taskQueue: ref.taskQueue, args: [input] } as WorkflowStartOptions<
    (input: I) => Promise<R>
  >);
}

/**
 * Starts the workflow unless its id is taken (running, or closed under a reuse policy that keeps
 * it closed): true when this call started it. For starts that may be repeated after a lost answer.
 */
export async function startWorkflowOnce<I, R>(client: WorkflowClient, ref: WorkflowRef<I, R>, input: I, spec: StartSpec<I, R>): Promise<boolean> {
  try {
    await startWorkflow(client, ref, input, spec);
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/** Signals the workflow `ref` names, starting it with `input` first if it is not running. */
export function signalWithStartWorkflow<I, R, A extends unknown[]>(
  client: WorkflowClient,
  ref: WorkflowRef<I, R>,
  input: I,
  spec: SignalWithStartSpec<I, R, A>,
) {
  return client.signalWithStart<(input: I) => Promise<R>, A>(ref.workflowType, { ...spec, taskQueue: ref.taskQueue, args: [input] } as WithWorkflowArgs<
    (input: I) => Promise<R>,
    WorkflowSignalWithStartOptions<A>
  >);
}
