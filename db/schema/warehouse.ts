/** Shipment progress as reported by the WMS callbacks. */
import { pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

export const warehouseSchema = pgSchema('warehouse');

export const shipments = warehouseSchema.table('shipments', {
  orderId: text('order_id').primaryKey(),
  customerId: text('customer_id').notNull(),
  instructionId: text('instruction_id'),
  status: text('status').notNull(),
  trackingNumber: text('tracking_number'),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
