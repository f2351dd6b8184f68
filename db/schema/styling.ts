/** Each pick styling made for an order, per attempt: why a box holds what it holds. */
import { integer, jsonb, pgSchema, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const stylingSchema = pgSchema('styling');

export const picks = stylingSchema.table(
  'picks',
  {
    orderId: text('order_id').notNull(),
    attempt: integer('attempt').notNull(),
    itemIds: jsonb('item_ids').$type<string[]>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.attempt] })],
);
