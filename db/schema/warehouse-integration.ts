/** Shipping instructions sent to the third-party WMS, one per order. */
import { pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

export const wmsSchema = pgSchema('wms');

export const instructions = wmsSchema.table('instructions', {
  orderId: text('order_id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull(),
  instructionId: text('instruction_id'),
  /** sending: an attempt is recorded before the WMS is called; until answered (or resolved by key) its outcome is in doubt. */
  status: text('status', { enum: ['sending', 'sent', 'rejected', 'cancelled'] }).notNull(),
  detail: text('detail'),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
