/** The orders read model, written by orderWorkflow on every transition. */
import { index, integer, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import type { OrderWorkflowInput } from '../../workflows/orders/contract';

export const ordersSchema = pgSchema('orders');

export const orders = ordersSchema.table(
  'orders',
  {
    id: text('id').primaryKey(),
    customerId: text('customer_id').notNull(),
    status: text('status').notNull(),
    statusReason: text('status_reason'),
    size: text('size').notNull(),
    categories: jsonb('categories').$type<string[]>().notNull(),
    itemCount: integer('item_count').notNull(),
    address: jsonb('address').notNull(),
    itemIds: jsonb('item_ids').$type<string[]>().notNull().default([]),
    trackingNumber: text('tracking_number'),
    /** Items of the box the member bought (item.sold). */
    purchasedItemIds: jsonb('purchased_item_ids').$type<string[]>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('orders_customer_idx').on(t.customerId, t.createdAt)],
);

/**
 * The outbox of accepted orders whose orderWorkflow still has to be started
 * (store/orders/workflow-starts.ts, relayed by workers/order-start-relay.ts): POST /v1/orders writes the order row and this row in
 * one statement and answers; the orders worker's relay starts the workflow from it.
 */
export const orderWorkflowStarts = ordersSchema.table(
  'workflow_starts',
  {
    orderId: text('order_id')
      .primaryKey()
      .references(() => orders.id, { onDelete: 'cascade' }),
    input: jsonb('input').$type<OrderWorkflowInput>().notNull(),
    /** W3C trace context of the accepting request, so the workflow's spans join its trace. */
    traceContext: jsonb('trace_context').$type<Record<string, string>>(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** Until then the process that accepted (or last claimed) the row is starting it; a sweep leaves it alone. */
    claimedUntil: timestamp('claimed_until', { withTimezone: true, mode: 'date' }),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('workflow_starts_pending_idx')
      .on(t.acceptedAt)
      .where(sql`${t.startedAt} is null`),
  ],
);
