/**
 * Handler tables: the one list of what a subscribing workflow reacts to. Each entry pairs an event
 * definition with its handler; the workflow's subscriptions (its `subscriptions.ts`) and its inbox
 * filter (what `Inbox.take` / `Inbox.next` wait for) are both read from the table, so an event can
 * be neither subscribed without a handler nor handled without a subscription. A table is a
 * module-level constant over a state machine's type: `subscriptions.ts` imports it on the Node side
 * without running workflow code, and the workflow applies each inbox event through it.
 */
import type { EventDefinition, EventEnvelope } from './contract';

/** One entry of a table: an event the workflow follows and what its state machine does with it. */
export interface EventHandler<M> {
  readonly event: EventDefinition;
  handle(machine: M, event: EventEnvelope): Promise<void> | void;
}

/** The handler of one event, typed by the event's data. */
export function on<M, D>(event: EventDefinition<string, D>, handle: (machine: M, event: EventEnvelope<D>) => Promise<void> | void): EventHandler<M> {
  return { event: event as EventDefinition, handle: handle as EventHandler<M>['handle'] };
}

/** A workflow's handler table, in the order a box normally meets its events. */
export class HandlerTable<M> {
  /** The events the workflow follows: its subscriptions and its inbox filter. */
  readonly events: EventDefinition[];
  private readonly byType = new Map<string, EventHandler<M>>();

  constructor(handlers: EventHandler<M>[]) {
    for (const h of handlers) {
      if (this.byType.has(h.event.type)) throw new Error(`two handlers for ${h.event.type}`);
      this.byType.set(h.event.type, h);
    }
    this.events = handlers.map((h) => h.event);
  }

  /** Runs the event's handler. The inbox only yields events of the table, so a miss is a bug, not a drop. */
  async apply(machine: M, event: EventEnvelope): Promise<void> {
    const handler = this.byType.get(event.type);
    if (!handler) throw new Error(`no handler for ${event.type}`);
    await handler.handle(machine, event);
  }
}
