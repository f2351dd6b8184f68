/**
 * A test-only event and its subscriptions, for driving the real event layer (`publish`, the bus
 * activities, the registry) from tests: `test.ping` starts `testEntityWorkflow` under one of two
 * subscriptions, a plain start one and a `reopen` one.
 */
import { z } from 'zod';
import { defineEvent, subscribe } from '../../workflows/bus/contract';

/** Task queue of the test worker that runs `test/support/test-workflows.ts`. */
export const TEST_WORKFLOWS_TASK_QUEUE = 'closetflow-test-workflows';

export const testPingData = z.object({
  entityId: z.string(),
  /** What the entity does with it: complete at once, fail at once, or wait for more pings. */
  action: z.enum(['complete', 'fail', 'wait']),
  /** Delivered to the `reopen` subscription's entity instead of the plain one. */
  reopen: z.boolean(),
});
export type TestPingData = z.infer<typeof testPingData>;
/** A test event for an entity named by `entityId`. */
export const TestPing = defineEvent('test.ping', 'events', testPingData);

/** Workflow id of the entity of the plain start subscription. */
export const testEntityId = (entityId: string): string => `test-entity:${entityId}`;
/** Workflow id of the entity of the reopen subscription. */
export const reopeningEntityId = (entityId: string): string => `test-reopening-entity:${entityId}`;

export const testSubscriptions = [
  subscribe(TestPing, {
    name: 'test.ping-entity',
    domain: 'events',
    workflowType: 'testEntityWorkflow',
    taskQueue: TEST_WORKFLOWS_TASK_QUEUE,
    workflowId: (e) => testEntityId(e.data.entityId),
    start: true,
    when: (e) => !e.data.reopen,
  }),
  subscribe(TestPing, {
    name: 'test.ping-reopening-entity',
    domain: 'events',
    workflowType: 'testEntityWorkflow',
    taskQueue: TEST_WORKFLOWS_TASK_QUEUE,
    workflowId: (e) => reopeningEntityId(e.data.entityId),
    start: true,
    reopen: true,
    when: (e) => e.data.reopen,
  }),
];

/** What `publishEventsWorkflow` publishes: the envelope fields a publisher owns. */
export interface EventToPublish {
  type: string;
  id: string;
  data: unknown;
  correlationId: string;
}
