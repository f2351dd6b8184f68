/**
 * Handler tables: the one list of what a subscribing workflow reacts to. Each entry pairs an event
 * definition with its handler (and, where the subscriber needs one, its subscription's own name and
 * filter); the workflow's subscriptions (its `subscriptions.ts`) and its inbox filter (what
 * `Inbox.take` / `Inbox.next` wait for) are both read from the table, so an event can be neither
 * subscribed without a handler nor handled without a subscription. A table is a module-level
 * constant over a state machine's type: `subscriptions.ts` imports it on the Node side without
 * running workflow code, and the workflow applies each inbox event through it.
 */
import { subscribe, type EventDefinition, type EventEnvelope, type Subscription } from './contract';

/** What one entry may say about its own subscription (its name, and where it differs from the table's common spec). */
export type HandlerSubscription<D> = Partial<Omit<Subscription<D>, 'event' | 'name'>> & {
  /** The subscriber name (the deliveries' dedupe key: never rename one that has run). */
  name: string;
};

/** One entry of a table: an event the workflow follows and what its state machine does with it. */
export interface EventHandler<M> {
  readonly event: EventDefinition;
  readonly subscription?: HandlerSubscription<unknown>;
  handle(machine: M, event: EventEnvelope): Promise<void> | void;
}

/** The handler of one event, typed by the event's data. */
export function on<M, D>(
  event: EventDefinition<string, D>,
  handle: (machine: M, event: EventEnvelope<D>) => Promise<void> | void,
  subscription?: HandlerSubscription<D>,
): EventHandler<M> {
  return {
    event: event as EventDefinition,
    handle: handle as EventHandler<M>['handle'],
    subscription: subscription as HandlerSubscription<unknown> | undefined,
  };
}

/** What every subscription of a table shares (the workflow it signals, how its id is found); an entry's own fields win. */
export type SubscriptionSpec = Omit<Subscription, 'event' | 'name'> & { name?: string };

/** A workflow's handler table, in the order a box normally meets its events. */
export class HandlerTable<M> {
  /** The events the workflow follows: its inbox filter. */
  readonly events: EventDefinition[];
  private readonly handlers: EventHandler<M>[];
  private readonly byType = new Map<string, EventHandler<M>>();

  constructor(handlers: EventHandler<M>[]) {
    for (const h of handlers) {
      if (this.byType.has(h.event.type)) throw new Error(`two handlers for ${h.event.type}`);
      this.byType.set(h.event.type, h);
    }
    this.handlers = handlers;
    this.events = handlers.map((h) => h.event);
  }

  /** The table's subscriptions, one per entry, in the table's order. */
  subscriptions(spec: (event: EventDefinition) => SubscriptionSpec): Subscription[] {
    return this.handlers.map((h) => {
      const merged = { ...spec(h.event), ...h.subscription };
      if (!merged.name) throw new Error(`the subscription to ${h.event.type} has no name`);
      return subscribe(h.event, { ...merged, name: merged.name });
    });
  }

  /** Runs the event's handler. The inbox only yields events of the table, so a miss is a bug, not a drop. */
  async apply(machine: M, event: EventEnvelope): Promise<void> {
    const handler = this.byType.get(event.type);
    if (!handler) throw new Error(`no handler for ${event.type}`);
    await handler.handle(machine, event);
  }
}
