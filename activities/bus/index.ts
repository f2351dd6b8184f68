/** Bus activities: record an event in the log, resolve its subscribers, deliver signals. */
import { ApplicationFailure, log } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { SearchAttributeType, defineSearchAttributeKey, type SearchAttributePair } from '@temporalio/common';
import type { Db } from '../../db/client';
import { businessMetrics } from '../../observability/metrics';
import { appendEvent, recordDeliveries } from '../../store/bus/event-log';
import {
  eventSignal,
  type DeliverEventInput,
  type DeliverEventResult,
  type Delivery,
  type DeliveryOutcome,
  type EventEnvelope,
  type RecordEventInput,
  type RecordEventResult,
  type Registry,
} from '../../workflows/bus/contract';
import { FailureType } from '../../workflows/failures';
import type { BusActivities } from '../../workflows/bus/contract';

/** Creates the bus activities over a database, a Temporal client and the subscription registry. */
export function createBusActivities({ db, client, registry }: { db: Db; client: Client; registry: Registry }): BusActivities {
  /**
   * A `reopen` delivery whose entity is not running: signal-with-start under
   * ALLOW_DUPLICATE_FAILED_ONLY, so an entity that failed or was terminated after the publisher's
   * start attempt still gets the event (in a new run); a completed one still rejects it.
   */
  async function reopen(event: EventEnvelope, d: Delivery, searchAttributes: Record<string, string>): Promise<DeliveryOutcome> {
    const typedSearchAttributes: SearchAttributePair[] = Object.entries(searchAttributes)
      .filter(([name]) => !(d.scope === 'customer' && name === 'OrderId'))
      .map(([name, value]) => ({ key: defineSearchAttributeKey(name, SearchAttributeType.KEYWORD), value }));
    try {
      const handle = await client.workflow.signalWithStart(d.workflowType, {
        workflowId: d.workflowId,
        taskQueue: d.taskQueue,
        // The run gets the event twice (input and signal); its Inbox keeps one.
        args: [{ event }],
        signal: eventSignal,
        signalArgs: [event],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        typedSearchAttributes,
        memo: { causedBy: event.id, publishedBy: event.source },
        staticSummary: d.staticSummary,
        staticDetails: `Started again by event \`${event.id}\` (${event.type}) from ${event.source.domain} workflow \`${event.source.workflowId}\`: the previous run had closed without completing.`,
      });
      // Another publisher may have started a run in between: then this was a signal to it.
      const description = await client.workflow.getHandle(d.workflowId, handle.signaledRunId).describe();
      const startedHere = description.memo?.causedBy === event.id;
      log.info(startedHere ? 'closed subscriber started again by a reopen delivery' : 'event signalled to a subscriber started meanwhile', {
        eventId: event.id,
        subscriber: d.subscriber,
        workflowId: d.workflowId,
        runId: handle.signaledRunId,
      });
      return startedHere
        ? {
            subscriber: d.subscriber,
            workflowId: d.workflowId,
            outcome: 'started',
            detail: `new run ${handle.signaledRunId}: the previous one had closed without completing`,
          }
        : { subscriber: d.subscriber, workflowId: d.workflowId, outcome: 'signalled' };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      log.info('event rejected by completed subscriber', { eventId: event.id, subscriber: d.subscriber, workflowId: d.workflowId });
      return { subscriber: d.subscriber, workflowId: d.workflowId, outcome: 'rejected', detail: 'workflow completed' };
    }
  }

  /** Signals each running subscriber and records every outcome (first outcome per subscriber stands). */
  async function deliver(
    event: EventEnvelope,
    started: DeliveryOutcome[],
    signals: Delivery[],
    searchAttributes: Record<string, string> = {},
  ): Promise<DeliveryOutcome[]> {
    const outcomes: DeliveryOutcome[] = [...started];
    for (const d of signals) {
      try {
        await client.workflow.getHandle(d.workflowId).signal(eventSignal, event);
        outcomes.push({ subscriber: d.subscriber, workflowId: d.workflowId, outcome: 'signalled' });
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        if (d.reopen && d.start) {
          outcomes.push(await reopen(event, d, searchAttributes));
          continue;
        }
        outcomes.push({ subscriber: d.subscriber, workflowId: d.workflowId, outcome: 'rejected', detail: 'workflow not running' });
        log.info('event rejected by closed subscriber', { eventId: event.id, subscriber: d.subscriber, workflowId: d.workflowId });
      }
    }
    if (outcomes.length > 0) {
      // The first outcome stands: a redelivery after a retry or reset is already deduped downstream.
      const recorded = await recordDeliveries(db, event.id, outcomes);
      countDelivered(event, recorded);
    }
    return outcomes;
  }

  /** Counts only first records: a retried or reset publish counts once, like it is delivered once. */
  function countPublished(event: EventEnvelope): void {
    businessMetrics.eventsPublished.inc({ type: event.type, domain: event.source.domain });
    if (event.type === 'order.placed') businessMetrics.ordersPlaced.inc();
  }
  function countDelivered(event: EventEnvelope, recorded: { subscriber: string; outcome: string }[]): void {
    const lagSeconds = Math.max(0, (Date.now() - Date.parse(event.occurredAt)) / 1000);
    for (const { subscriber, outcome } of recorded) {
      const domain = registry.subscriptions.find((s) => s.name === subscriber)?.domain ?? 'unknown';
      businessMetrics.eventsDelivered.inc({ type: event.type, subscriber_domain: domain, outcome });
      businessMetrics.deliveryLag.observe({ type: event.type }, lagSeconds);
    }
  }

  return {
    /**
     * Validates the event, appends it to the event log (once: the id is unique) and returns its
     * deliveries. Subscribers are resolved here, at publish time, and recorded in the publisher's
     * history as this activity's result: replay never re-resolves them.
     */
    async recordEvent({ event }: RecordEventInput): Promise<RecordEventResult> {
      const def = registry.events.get(event.type);
      if (!def) {
        throw ApplicationFailure.create({ type: FailureType.InvalidEvent, message: `unknown event type ${event.type}`, nonRetryable: true });
      }
      const parsed = def.schema.safeParse(event.data);
      if (!parsed.success) {
        throw ApplicationFailure.create({
          type: FailureType.InvalidEvent,
          message: `${event.id}: data does not match ${event.type}: ${parsed.error.message}`,
          nonRetryable: true,
        });
      }
      const deliveries: Delivery[] = registry.subscriptions
        .filter((s) => s.event.type === event.type && (!s.when || s.when(event)))
        .map((s) => ({
          subscriber: s.name,
          domain: s.domain,
          workflowType: s.workflowType,
          workflowId: s.workflowId(event),
          taskQueue: s.taskQueue,
          start: s.start,
          // Every started subscriber gets a summary in the Web UI, also when its subscription names none.
          staticSummary: s.summary ? s.summary(event) : `${s.workflowType} of ${event.correlationId}, started by ${event.type}`,
          ...(s.scope ? { scope: s.scope } : {}),
          // Only when set: a delivery without the field means what it meant before the option.
          ...(s.reopen && s.start ? { reopen: true } : {}),
        }));
      const recorded = await appendEvent(
        db,
        event,
        deliveries.map((d) => d.subscriber),
      );
      if (recorded) countPublished(event);
      log.info('event recorded', { eventId: event.id, eventType: event.type, orderId: event.correlationId, subscribers: deliveries.length });
      // When no subscriber needs a child workflow started, delivering here saves the publisher a
      // second activity (a Temporal action per publish). The outcomes are in this activity's
      // result, so the publisher's history still shows who received the event.
      if (deliveries.length > 0 && deliveries.every((d) => !d.start)) {
        return { deliveries, outcomes: await deliver(event, [], deliveries) };
      }
      return { deliveries };
    },

    /**
     * Signals running subscribers and records every outcome. A subscriber whose workflow is not
     * running (finished, or never started for signal-only subscriptions) is recorded as rejected
     * and skipped: a late event never restarts a closed entity — except a failed or terminated
     * entity of a `reopen` subscription, which is signal-with-started into a new run.
     */
    async deliverEvent({ event, started, signals, searchAttributes }: DeliverEventInput): Promise<DeliverEventResult> {
      return { outcomes: await deliver(event, started, signals, searchAttributes) };
    },
  };
}
