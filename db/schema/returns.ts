/** The returns domain: reminders sent for a box (at most one per offset) and the inspection of each returned item. */
import { pgSchema, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const returnsSchema = pgSchema('returns');

/** One row per reminder actually sent: the primary key makes a replayed or reset reminder a no-op. */
export const reminders = returnsSchema.table(
  'reminders',
  {
    orderId: text('order_id').notNull(),
    /** The offset from the deadline it was sent at, e.g. `-3 days`. */
    offset: text('offset').notNull(),
    customerId: text('customer_id').notNull(),
    deadline: timestamp('deadline', { withTimezone: true, mode: 'date' }).notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.offset] })],
);

/** The outcome of inspecting one returned item. */
export const inspections = returnsSchema.table(
  'inspections',
  {
    orderId: text('order_id').notNull(),
    itemId: text('item_id').notNull(),
    outcome: text('outcome', { enum: ['clean', 'damaged'] }).notNull(),
    inspectedAt: timestamp('inspected_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.itemId] })],
);
