/**
 * Workflow-side event layer: `publish` announces a fact, `Inbox` receives the events a
 * subscriber workflow is sent. Runs inside the workflow sandbox: deterministic code only.
 */
import { ParentClosePolicy, WorkflowIdReusePolicy, condition, log, proxyLocalActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { eventSignal, type BusActivities, type Delivery, type DeliveryOutcome, type EventDefinition, type EventEnvelope } from './contract';

// Local activities, run by the publisher's own worker inside its workflow task: recording an event
// and signalling its subscribers costs no activity task and no extra workflow task per publish (the
// largest share of a box's cost on the cluster, measured: bench/results/pipeline.md). Both are
// idempotent by event id, so a re-run after a worker crash records and delivers nothing twice.
const bus = proxyLocalActivities<BusActivities>({
  startToCloseTimeout: '30 seconds',
  // No attempt limit: a publish must eventually reach every subscriber (docs/architecture.md, "The
  // event layer"), so a database or server outage only delays it. Past a minute of retries the
  // SDK waits on durable timers between attempts, visible in the history.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  localRetryThreshold: '1 minute',
});

/** What a workflow says when it publishes: the envelope fields it owns. */
export interface PublishInput<D> {
  /** Deterministic id from business ids, e.g. `order:${orderId}:placed`. */
  id: string;
  data: D;
  correlationId: string;
  /** The event this one is a reaction to. */
  causedBy?: EventEnvelope | null;
}

/**
 * Publishes an event durably: it is in `events.event_log` and delivered to every subscriber
 * (started as a child or signalled) before this resolves. Subscribers are resolved by an
 * activity, never from module state, so adding a subscription cannot break the replay of a
 * running publisher.
 */
export async function publish<T extends string, D>(def: EventDefinition<T, D>, input: PublishInput<D>): Promise<EventEnvelope<D, T>> {
  const info = workflowInfo();
  const event: EventEnvelope<D, T> = {
    id: input.id,
    type: def.type,
    occurredAt: new Date().toISOString(),
    correlationId: input.correlationId,
    causationId: input.causedBy?.id ?? null,
    source: { domain: def.domain, workflowId: info.workflowId, runId: info.runId },
    data: input.data,
  };
  const { deliveries, outcomes } = await bus.recordEvent.executeWithOptions({ summary: `record ${event.id}` }, [{ event }]);
  if (outcomes) {
    log.info('event published', { eventId: event.id, eventType: event.type, subscribers: deliveries.map((d) => d.subscriber) });
    return event;
  }

  const started: DeliveryOutcome[] = [];
  const signals: Delivery[] = [];
  for (const delivery of deliveries) {
    if (!delivery.start) {
      signals.push(delivery);
      continue;
    }
    try {
      await startSubscriber(delivery, event);
      started.push({ subscriber: delivery.subscriber, workflowId: delivery.workflowId, outcome: 'started' });
    } catch (err) {
      // The subscriber's entity workflow already exists: running ones get the event as a signal,
      // finished ones are rejected by the bus (a late event never resurrects an entity) unless
      // the subscription reopens failed or terminated entities.
      if ((err as Error | undefined)?.name !== 'WorkflowExecutionAlreadyStartedError') throw err;
      signals.push(delivery);
    }
  }
  if (started.length > 0 || signals.length > 0) {
    // A reopen delivery left for a signal may find its entity closed by then, and the bus then
    // starts it itself: it needs the search attributes this child start would have given it.
    // Sent only then, so the input of every other publish stays what it was.
    const searchAttributes = signals.some((d) => d.reopen) ? keywordSearchAttributes() : undefined;
    await bus.deliverEvent.executeWithOptions({ summary: `deliver ${event.id} to ${deliveries.length} subscriber(s)` }, [
      { event, started, signals, ...(searchAttributes ? { searchAttributes } : {}) },
    ]);
  }
  log.info('event published', { eventId: event.id, eventType: event.type, subscribers: deliveries.map((d) => d.subscriber) });
  return event;
}

async function startSubscriber(delivery: Delivery, event: EventEnvelope): Promise<void> {
  const info = workflowInfo();
  await startChild(delivery.workflowType, {
    workflowId: delivery.workflowId,
    taskQueue: delivery.taskQueue,
    args: [{ event }],
    // The subscriber owns its lifetime: it must outlive the publisher that caused it.
    parentClosePolicy: ParentClosePolicy.ABANDON,
    // `reopen` is read from the recorded delivery: a history from before the option has none and
    // replays with REJECT_DUPLICATE, the policy it was recorded with.
    workflowIdReusePolicy: delivery.reopen ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY : WorkflowIdReusePolicy.REJECT_DUPLICATE,
    // Every workflow of a box carries the box's OrderId/CustomerId, so one Web UI filter finds them all.
    typedSearchAttributes:
      delivery.scope === 'customer' ? info.typedSearchAttributes.getAll().filter((pair) => pair.key.name !== 'OrderId') : info.typedSearchAttributes,
    memo: { causedBy: event.id, publishedBy: event.source },
    staticSummary: delivery.staticSummary,
    staticDetails: `Started by event \`${event.id}\` (${event.type}) from ${event.source.domain} workflow \`${event.source.workflowId}\`.`,
  });
}

/** The running workflow's Keyword search attributes by name (OrderId, CustomerId). */
function keywordSearchAttributes(): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const { key, value } of workflowInfo().typedSearchAttributes.getAll()) {
    if (key.type === 'KEYWORD' && typeof value === 'string') attributes[key.name] = value;
  }
  return attributes;
}

/**
 * The events a subscriber workflow has been sent, deduplicated by event id: delivery is
 * at-least-once, processing is effectively-once.
 */
export class Inbox {
  private readonly pending: EventEnvelope[] = [];
  private readonly seen = new Set<string>();

  /** Installs the event signal handler; `initial` is the event that started the workflow, if any. */
  constructor(initial?: EventEnvelope) {
    if (initial) this.accept(initial);
    setHandler(eventSignal, (event) => {
      this.accept(event);
    });
  }

  private accept(event: EventEnvelope): boolean {
    if (this.seen.has(event.id)) {
      log.info('duplicate event ignored', { eventId: event.id, eventType: event.type });
      return false;
    }
    this.seen.add(event.id);
    this.pending.push(event);
    return true;
  }

  /**
   * Queues an event that reached the workflow another way (an activity's result, e.g. a ledger's
   * sweep of the event log), deduplicated with the signalled ones. False if it was already seen.
   */
  add(event: EventEnvelope): boolean {
    return this.accept(event);
  }

  /** Ids of every event received so far, e.g. to carry across continue-as-new. */
  get receivedIds(): string[] {
    return [...this.seen];
  }

  /**
   * Waits for the next event of one of `defs` (others stay queued) and removes it from the inbox.
   * Resolves undefined if `timeout` passes first.
   */
  async next(defs: EventDefinition[], timeout?: Duration): Promise<EventEnvelope | undefined> {
    if (timeout === undefined) await condition(() => this.has(defs));
    else if (!(await condition(() => this.has(defs), timeout))) return undefined;
    // Another waiter woken by the same event may have taken it first: wait again if so.
    return this.take(defs) ?? this.next(defs, timeout);
  }

  /** Removes and returns the oldest queued event of one of `defs` (and matching `where`), without waiting. */
  take(defs: EventDefinition[], where?: (event: EventEnvelope) => boolean): EventEnvelope | undefined {
    const types = new Set(defs.map((d) => d.type));
    const index = this.pending.findIndex((e) => types.has(e.type) && (!where || where(e)));
    return index >= 0 ? this.pending.splice(index, 1)[0] : undefined;
  }

  /** True when an event of one of `defs` (and matching `where`) is waiting. */
  has(defs: EventDefinition[], where?: (event: EventEnvelope) => boolean): boolean {
    const types = new Set(defs.map((d) => d.type));
    return this.pending.some((e) => types.has(e.type) && (!where || where(e)));
  }
}
