/** Shipping instructions sent to the third-party WMS, one per order. */
import { pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

export const wmsSchema = pgSchema('wms');

export const instructions = wmsSchema.table('instructions', {
  orderId: text('order_id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull(),
  instructionId: text('instruction_id'),
  status: text('status', { enum: ['sent', 'rejected', 'cancelled'] }).notNull(),
  detail: text('detail'),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
