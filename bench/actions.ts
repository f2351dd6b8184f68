/**
 * Counts history events and billable Temporal actions (as Temporal Cloud bills them) for every
 * workflow of one box, from the real histories on the server.
 *
 *   npx tsx bench/actions.ts <orderId> [--address 127.0.0.1:7233]
 *
 * Actions counted per the Temporal Cloud pricing page: workflow started (not for children, whose
 * start is the parent's action), child workflow started, signal sent or received, activity
 * started or retried (each attempt), local activity, timer, update accepted, search attribute
 * upsert, side effect / version marker, continue-as-new.
 */
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { parseArgs } from 'node:util';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface WorkflowCost {
  workflowId: string;
  type: string;
  taskQueue: string;
  historyEvents: number;
  actions: number;
  breakdown: Record<string, number>;
}

/** Billable actions of one history. */
export function countActions(events: HistoryEvent[]): { actions: number; breakdown: Record<string, number> } {
  const breakdown: Record<string, number> = {};
  const add = (what: string, n = 1) => (breakdown[what] = (breakdown[what] ?? 0) + n);
  for (const e of events) {
    if (e.workflowExecutionStartedEventAttributes && !e.workflowExecutionStartedEventAttributes.parentWorkflowExecution) add('workflow started');
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) add('child workflow started');
    if (e.workflowExecutionSignaledEventAttributes) add('signal received');
    if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) add('signal sent');
    if (e.activityTaskStartedEventAttributes) add('activity attempt');
    if (e.timerStartedEventAttributes) add('timer');
    if (e.workflowExecutionUpdateAcceptedEventAttributes) add('update');
    if (e.upsertWorkflowSearchAttributesEventAttributes) add('search attribute upsert');
    if (e.markerRecordedEventAttributes) add('marker (local activity / side effect)');
    if (e.workflowExecutionContinuedAsNewEventAttributes) add('continue-as-new');
  }
  return { actions: Object.values(breakdown).reduce((a, b) => a + b, 0), breakdown };
}

/** Every workflow run tagged with the order's OrderId, with its cost. */
export async function costOfBox(client: Client, orderId: string): Promise<WorkflowCost[]> {
  const costs: WorkflowCost[] = [];
  for await (const wf of client.workflow.list({ query: `OrderId = "${orderId}"` })) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    const events = history.events ?? [];
    costs.push({ workflowId: wf.workflowId, type: wf.type, taskQueue: wf.taskQueue, historyEvents: events.length, ...countActions(events) });
  }
  return costs.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { address: { type: 'string', default: '127.0.0.1:7233' } } });
  const orderId = positionals[0];
  if (!orderId) throw new Error('usage: npx tsx bench/actions.ts <orderId> [--address host:port]');
  const connection = await Connection.connect({ address: values.address });
  try {
    const costs = await costOfBox(new Client({ connection }), orderId);
    console.log('| workflow | type | task queue | history events | actions |\n|---|---|---|---|---|');
    for (const c of costs) console.log(`| ${c.workflowId} | ${c.type} | ${c.taskQueue} | ${c.historyEvents} | ${c.actions} |`);
    const total = costs.reduce((t, c) => ({ events: t.events + c.historyEvents, actions: t.actions + c.actions }), { events: 0, actions: 0 });
    console.log(`| **total** (${costs.length} workflows) | | | ${total.events} | ${total.actions} |`);
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
