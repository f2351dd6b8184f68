/** The event bus's own tables: the global event log (timeline + audit trail) and per-subscriber deliveries. */
import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, pgSchema, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const eventsSchema = pgSchema('events');

/** Every published event, once (id is the deterministic business id), in global publish order (seq). */
export const eventLog = eventsSchema.table(
  'event_log',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: text('id').notNull().unique(),
    type: text('type').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    correlationId: text('correlation_id').notNull(),
    causationId: text('causation_id'),
    sourceDomain: text('source_domain').notNull(),
    sourceWorkflowId: text('source_workflow_id').notNull(),
    sourceRunId: text('source_run_id').notNull(),
    data: jsonb('data').notNull(),
    /** Subscribers resolved when the event was recorded: who it was delivered to. */
    subscribers: jsonb('subscribers').$type<string[]>().notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('event_log_correlation_idx').on(t.correlationId, t.seq),
    // A fresh ledger run sweeps its customer's money events for ones without a journal entry;
    // only the booked types are indexed, so the index stays small under load. The types are
    // literals here and in the sweep's query, so the planner can prove the predicate.
    index('event_log_money_customer_idx')
      .on(sql`(${t.data}->>'customerId')`)
      .where(sql`${t.type} in ('payment.captured', 'payment.refunded', 'item.sold')`),
  ],
);

/** One row per (event, subscriber): how the delivery ended. The primary key makes redelivery a no-op. */
export const deliveries = eventsSchema.table(
  'deliveries',
  {
    eventId: text('event_id').notNull(),
    subscriber: text('subscriber').notNull(),
    workflowId: text('workflow_id').notNull(),
    outcome: text('outcome', { enum: ['started', 'signalled', 'rejected'] }).notNull(),
    detail: text('detail'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.subscriber] })],
);
