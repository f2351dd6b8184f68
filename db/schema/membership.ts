/** The membership read model of the orders domain (`orders.memberships`), written by membershipWorkflow. */
import { text, timestamp } from 'drizzle-orm/pg-core';
import { ordersSchema } from './orders';

export const memberships = ordersSchema.table('memberships', {
  customerId: text('customer_id').primaryKey(),
  status: text('status', { enum: ['active', 'suspended'] }).notNull(),
  currentPeriod: text('current_period').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
