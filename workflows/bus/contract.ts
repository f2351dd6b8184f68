/**
 * The event layer's contract: event definitions, the envelope, subscriptions and the delivery
 * plan. Pure TypeScript + zod, so workflow code, activities and the API can all import it.
 */
import { defineSignal } from '@temporalio/workflow';
import type { z } from 'zod';

/** The business systems that own workflows and publish events. */
/**
 * A domain's name: its key in the registration list (workers/domains.ts), or 'events' for the
 * event layer itself. A string here so that adding a domain touches no list in workflow code; the
 * registry (workers/registry.ts) refuses an event or subscription of a domain not in the list.
 */
export type DomainName = string;

/** Where an event was published from: enough to open the publishing workflow in the Web UI. */
export interface EventSource {
  domain: DomainName;
  workflowId: string;
  runId: string;
}

/** The envelope every event travels in (docs/architecture.md, "Envelope and ids"). */
export interface EventEnvelope<D = unknown, T extends string = string> {
  /** Deterministic, built from business ids (`order:o_1:placed`), never random: resets must reproduce it. */
  id: string;
  type: T;
  /** Workflow time of publication (ISO 8601). */
  occurredAt: string;
  /** The order id (or customer id for customer-level flows): groups a box's events into one timeline. */
  correlationId: string;
  /** Id of the event that caused this one, or null for a root event such as order.placed. */
  causationId: string | null;
  source: EventSource;
  data: D;
}

/** A typed event: its name, its publishing domain and the schema its data must satisfy. */
export interface EventDefinition<T extends string = string, D = unknown> {
  /** Marks a value made by defineEvent, so a contract module's events can be told from its other exports. */
  readonly kind: 'event';
  type: T;
  domain: DomainName;
  schema: z.ZodType<D>;
}

/** Declares an event type owned by `domain`. */
export function defineEvent<const T extends string, D>(type: T, domain: DomainName, schema: z.ZodType<D>): EventDefinition<T, D> {
  return { kind: 'event', type, domain, schema };
}

/** True for a value made by defineEvent. */
export function isEventDefinition(value: unknown): value is EventDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'event';
}

/** The data type carried by an event definition. */
export type EventData<E> = E extends EventDefinition<string, infer D> ? D : never;

/** Narrows an envelope to a given event definition. */
export function isEvent<T extends string, D>(event: EventEnvelope, def: EventDefinition<T, D>): event is EventEnvelope<D, T> {
  return event.type === def.type;
}

/** The single signal through which every event reaches a running subscriber workflow. */
export const eventSignal = defineSignal<[EventEnvelope]>('closetflow.event');

/** Input of every workflow that events start: the event that started it. */
export interface EventTriggeredInput<D = unknown> {
  event: EventEnvelope<D>;
}

/**
 * A subscriber's declaration that it reacts to an event. Lives in the subscriber's folder
 * (`workflows/<domain>/subscriptions.ts`); the publisher never names it.
 */
export interface Subscription<D = unknown> {
  /** Stable subscriber name, unique across the system: the dedupe key for deliveries. */
  name: string;
  event: EventDefinition<string, D>;
  domain: DomainName;
  workflowType: string;
  taskQueue: string;
  /** The entity workflow this event belongs to. */
  workflowId(event: EventEnvelope<D>): string;
  /**
   * true: start the workflow (as an abandoned child of the publisher, so the Web UI links cause and
   * effect) if it has never run, and signal it if it is running. false: only signal a running one.
   * Either way a finished workflow is never started again (except a failed or terminated one of a
   * `reopen` subscription): the event is recorded as rejected.
   */
  start: boolean;
  /**
   * For entity workflows that never finish on their own (a ledger): when the entity is closed
   * because it failed, was terminated, cancelled or timed out, the event starts a new run instead
   * of being rejected (`ALLOW_DUPLICATE_FAILED_ONLY`, on the child start and on the bus's
   * signal-with-start). A completed entity is still never started again. Only with `start: true`.
   */
  reopen?: boolean;
  /**
   * Optional filter: the subscription only receives events for which it returns true (e.g. only
   * `payment.captured` with `purpose: 'purchase'`). Evaluated by the bus activity at publish time.
   */
  when?(event: EventEnvelope<D>): boolean;
  /** One line shown for a started workflow in the Web UI. */
  summary?(event: EventEnvelope<D>): string;
  /**
   * 'customer' for subscribers that belong to a member rather than to one box (a ledger): the
   * started workflow keeps the publisher's CustomerId but not its OrderId, so an OrderId filter
   * in the Web UI shows only the box's own workflows. Default 'order'.
   */
  scope?: 'order' | 'customer';
}

/** Declares a subscription (see {@link Subscription}). */
export function subscribe<D>(event: EventDefinition<string, D>, spec: Omit<Subscription<D>, 'event'>): Subscription<D> {
  return { ...spec, event };
}

/** One planned delivery, resolved by the bus activity and recorded in the publisher's history. */
export interface Delivery {
  subscriber: string;
  domain: DomainName;
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  start: boolean;
  staticSummary?: string;
  scope?: 'order' | 'customer';
  /**
   * See {@link Subscription.reopen}. Deliveries are activity results kept in publishers'
   * histories: one recorded before the option existed has no field, which means false.
   */
  reopen?: boolean;
}

/** How one delivery ended. */
export interface DeliveryOutcome {
  subscriber: string;
  workflowId: string;
  outcome: 'started' | 'signalled' | 'rejected';
  detail?: string;
}

export interface RecordEventInput {
  event: EventEnvelope;
}
export interface RecordEventResult {
  deliveries: Delivery[];
  /** Present when the bus already delivered every subscription (all signal-only): nothing left to do. */
  outcomes?: DeliveryOutcome[];
}
export interface DeliverEventInput {
  event: EventEnvelope;
  /** Deliveries the publisher already completed by starting a child workflow. */
  started: DeliveryOutcome[];
  /** Deliveries to make by signal (subscriber already running, or signal-only subscriptions). */
  signals: Delivery[];
  /**
   * The publisher's Keyword search attributes (`OrderId`, `CustomerId`), for a `reopen` delivery
   * the bus may have to start itself (signal-with-start). Sent only when there is one.
   */
  searchAttributes?: Record<string, string>;
}
export interface DeliverEventResult {
  outcomes: DeliveryOutcome[];
}

/** The subscriptions and event catalogue the bus delivers with (built from workers/domains.ts). */
export interface Registry {
  subscriptions: Subscription[];
  events: Map<string, EventDefinition>;
}

/** The bus activities, as workflow code sees them. */
export interface BusActivities {
  recordEvent(input: RecordEventInput): Promise<RecordEventResult>;
  deliverEvent(input: DeliverEventInput): Promise<DeliverEventResult>;
}
