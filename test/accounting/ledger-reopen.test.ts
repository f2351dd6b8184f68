/**
 * Money events are never dropped: a closed ledger is started again by the next money event, and a
 * fresh ledger run books what a terminated run had received but not applied (its sweep).
 * Events go through the real `publish` of a workflow, the bus and the accounting subscriptions.
 */
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { createBusActivities } from '../../activities/bus';
import { loadRegistry } from '../../workers/registry';
import { ledgerStateQuery, type ledgerWorkflow } from '../../workflows/accounting/workflows';
import { ACCOUNTING_TASK_QUEUE, ledgerWorkflowId } from '../../workflows/accounting/contract';
import type { DeliverEventResult, Delivery, EventEnvelope, RecordEventResult } from '../../workflows/bus/contract';
import { CustomerIdAttribute, OrderIdAttribute } from '../../workflows/search-attributes';
import { connectTestEnv } from '../support/temporal';
import { eventually, startSystem, uniqueId, type RunningSystem } from '../support/system';
import type { EventToPublish } from '../support/test-events';
import { publishThroughWorkflow, startTestWorkflowsWorker, type TestWorkflowsWorker } from '../support/test-workers';
import { membershipCaptured, refunded } from './support';

let env: TestWorkflowEnvironment;
let testWorkflows: TestWorkflowsWorker;
beforeAll(async () => {
  env = await connectTestEnv();
  testWorkflows = await startTestWorkflowsWorker(env);
});
afterAll(async () => {
  await testWorkflows?.stop();
  await env?.teardown();
});

const toPublish = (e: EventEnvelope): EventToPublish => ({ type: e.type, id: e.id, data: e.data, correlationId: e.correlationId });
/** Publishes the events from a workflow carrying the member's CustomerId, as payment's and inventory's do. */
const publishMoney = (customerId: string, ...events: EventEnvelope[]) =>
  publishThroughWorkflow(env, events.map(toPublish), { workflowId: uniqueId('test-publisher'), customerId });

async function entriesPerEvent(system: RunningSystem, customerId: string): Promise<Record<string, number>> {
  const rows = await system.database.sql<{ source_event_id: string; n: number }[]>`
    select source_event_id, count(*)::int as n from accounting.journal_entries where customer_id = ${customerId} group by source_event_id`;
  return Object.fromEntries(rows.map((r) => [r.source_event_id, r.n]));
}
const untilEntries = (system: RunningSystem, customerId: string, ids: string[]) =>
  eventually(
    async () => {
      const counts = await entriesPerEvent(system, customerId);
      return ids.every((id) => counts[id]) ? counts : undefined;
    },
    30_000,
    `entries of ${ids.join(', ')}`,
  );
async function runsOf(workflowId: string): Promise<{ runId: string; status: string }[]> {
  const runs = [];
  for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: wf.runId, status: wf.status.name });
  return runs;
}
const deliveryOf = async (system: RunningSystem, eventId: string) =>
  system.database.sql<{ subscriber: string; outcome: string }[]>`
    select subscriber, outcome from events.deliveries where event_id = ${eventId} and subscriber like 'accounting.%'`;

describe('a ledger that was terminated', () => {
  let system: RunningSystem;
  beforeAll(async () => {
    system = await startSystem({ env, domains: ['accounting'] });
  });
  afterAll(async () => system?.stop());

  test('a money event for a customer whose ledger was terminated is booked by a new ledger run', async () => {
    const customerId = uniqueId('c');
    const first = membershipCaptured(customerId, '2026-05');
    const second = membershipCaptured(customerId, '2026-06');
    await publishMoney(customerId, first);
    await untilEntries(system, customerId, [first.id]);
    const ledger = env.client.workflow.getHandle(ledgerWorkflowId(customerId));
    const terminatedRun = (await ledger.describe()).runId;
    await ledger.terminate('test: the ledger goes away');

    await publishMoney(customerId, second);
    // Before reopen this delivery was `rejected` and the second capture never had an entry.
    expect(await deliveryOf(system, second.id)).toEqual([{ subscriber: 'accounting.book-payment-captured', outcome: 'started' }]);
    expect(await untilEntries(system, customerId, [first.id, second.id])).toEqual({ [first.id]: 1, [second.id]: 1 });
    const current = await ledger.describe();
    expect(current.runId).not.toBe(terminatedRun);
    expect(current.status.name).toBe('RUNNING');
    expect(current.typedSearchAttributes.get(CustomerIdAttribute)).toBe(customerId);
    const runs = await eventually(
      async () => {
        const found = await runsOf(ledgerWorkflowId(customerId));
        return found.length === 2 ? found : undefined;
      },
      10_000,
      'two ledger runs',
    );
    expect(runs.map((r) => r.status).sort()).toEqual(['RUNNING', 'TERMINATED']);
    await ledger.terminate('test done');
  });

  test('a ledger terminated between the start attempt and the signal still gets the event', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    const first = membershipCaptured(customerId, '2026-08', 2500);
    await publishMoney(customerId, first);
    await untilEntries(system, customerId, [first.id]);

    // The bus's activities as a publisher drives them: the child start was refused (the ledger
    // ran), then the ledger is terminated before the signal.
    const bus = createBusActivities({ db: system.database.db, client: env.client, registry: loadRegistry() });
    const activity = new MockActivityEnvironment();
    const refund = refunded(first);
    const { deliveries } = (await activity.run(bus.recordEvent, { event: refund })) as RecordEventResult;
    expect(deliveries).toEqual([expect.objectContaining({ subscriber: 'accounting.book-payment-refunded', start: true, reopen: true, scope: 'customer' })]);
    await env.client.workflow.getHandle(ledgerWorkflowId(customerId)).terminate('test: closed after the start attempt');
    const { outcomes } = (await activity.run(bus.deliverEvent, {
      event: refund,
      started: [],
      signals: deliveries as Delivery[],
      searchAttributes: { OrderId: orderId, CustomerId: customerId },
    })) as DeliverEventResult;
    expect(outcomes).toEqual([expect.objectContaining({ subscriber: 'accounting.book-payment-refunded', outcome: 'started' })]);

    expect(await untilEntries(system, customerId, [first.id, refund.id])).toEqual({ [first.id]: 1, [refund.id]: 1 });
    const description = await env.client.workflow.getHandle(ledgerWorkflowId(customerId)).describe();
    // A ledger is the member's: it keeps CustomerId, not the OrderId of the box.
    expect(description.typedSearchAttributes.get(CustomerIdAttribute)).toBe(customerId);
    expect(description.typedSearchAttributes.get(OrderIdAttribute)).toBeUndefined();
    await env.client.workflow.getHandle(ledgerWorkflowId(customerId)).terminate('test done');
  });
});

describe('an event lost with a terminated ledger run', () => {
  test('is booked by the next run’s sweep', async () => {
    // No accounting worker yet: the ledger run the event starts receives it and never applies it.
    const bus = await startSystem({ env, domains: [] });
    let accounting: RunningSystem | undefined;
    try {
      const customerId = uniqueId('c');
      const lostCapture = membershipCaptured(customerId, '2026-04', 4200);
      const lostRefund = refunded(lostCapture, 1200);
      await publishMoney(customerId, lostRefund, lostCapture);
      expect(await deliveryOf(bus, lostCapture.id)).toEqual([{ subscriber: 'accounting.book-payment-captured', outcome: 'signalled' }]);
      const ledger = env.client.workflow.getHandle(ledgerWorkflowId(customerId));
      await ledger.terminate('test: the run goes away with its events');

      accounting = await startSystem({ env, domains: ['accounting'] });
      // The next run, started with the next money event as the bus starts it (directly here, so
      // that only the sweep is under test, not the reopening start).
      const next = membershipCaptured(customerId, '2026-07');
      await env.client.workflow.start<typeof ledgerWorkflow>('ledgerWorkflow', {
        workflowId: ledgerWorkflowId(customerId),
        taskQueue: ACCOUNTING_TASK_QUEUE,
        args: [{ event: next }],
        typedSearchAttributes: [{ key: CustomerIdAttribute, value: customerId }],
      });
      // The capture and its refund come from the sweep, the capture first, so the refund is not held.
      expect(await untilEntries(bus, customerId, [lostCapture.id, lostRefund.id, next.id])).toEqual({ [lostCapture.id]: 1, [lostRefund.id]: 1, [next.id]: 1 });
      const entries = await bus.database.sql<{ source_event_id: string }[]>`
        select source_event_id from accounting.journal_entries where customer_id = ${customerId} order by customer_seq`;
      const order = entries.map((e) => e.source_event_id);
      expect(order.indexOf(lostCapture.id)).toBeLessThan(order.indexOf(lostRefund.id));
      const state = await ledger.query(ledgerStateQuery);
      expect(state).toMatchObject({ sweeps: 1, heldRefunds: [] });

      // The run that was started by `next` never saw the lost events: they came from the event log.
      const history = await ledger.fetchHistory();
      const input = Buffer.from(history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data ?? []).toString('utf8');
      expect(input).toContain(next.id);
      expect(input).not.toContain(lostCapture.id);
      await ledger.terminate('test done');
    } finally {
      await accounting?.stop();
      await bus.stop();
    }
  });
});
