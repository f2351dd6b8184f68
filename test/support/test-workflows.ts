/**
 * Test-only workflows, bundled by the tests that run them (`startTestWorkflowsWorker`): a publisher
 * that publishes through the real `publish`, and the entity `test.ping` subscriptions start.
 * Workflow code: deterministic, imports like workflows/** do.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ItemSold } from '../../workflows/accounting/contract';
import type { EventDefinition, EventEnvelope, EventTriggeredInput } from '../../workflows/bus/contract';
import { Inbox, publish } from '../../workflows/bus/publish';
import { PaymentCaptured, PaymentRefunded } from '../../workflows/payment/contract';
import { TestPing, type EventToPublish, type TestPingData } from './test-events';

const PUBLISHABLE: EventDefinition[] = [PaymentCaptured, PaymentRefunded, ItemSold, TestPing];

/** Publishes the given events one after the other, as a domain workflow would; answers their envelopes. */
export async function publishEventsWorkflow({ events }: { events: EventToPublish[] }): Promise<EventEnvelope[]> {
  const published: EventEnvelope[] = [];
  for (const e of events) {
    const def = PUBLISHABLE.find((d) => d.type === e.type);
    if (!def) throw ApplicationFailure.create({ message: `the test publisher does not publish ${e.type}`, nonRetryable: true });
    published.push(await publish(def, { id: e.id, data: e.data, correlationId: e.correlationId }));
  }
  return published;
}

/** An entity started by `test.ping`: completes, fails, or waits for pings until one says complete. */
export async function testEntityWorkflow({ event }: EventTriggeredInput<TestPingData>): Promise<{ received: string[] }> {
  const inbox = new Inbox(event);
  const received: string[] = [];
  for (;;) {
    const ping = (await inbox.next([TestPing])) as EventEnvelope<TestPingData>;
    received.push(ping.id);
    if (ping.data.action === 'fail')
      throw ApplicationFailure.create({ type: 'TestEntityFailed', message: `failed on ${ping.id}, on purpose`, nonRetryable: true });
    if (ping.data.action === 'complete') return { received };
  }
}
