/** The orders read model, written by orderWorkflow on every transition. */
import { index, integer, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

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
