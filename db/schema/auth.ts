/** Members and their credentials. Passwords are stored only as scrypt hashes. */
import { jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

export const authSchema = pgSchema('auth');

export const customers = authSchema.table('customers', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  name: text('name').notNull(),
  role: text('role', { enum: ['customer', 'admin'] }).notNull().default('customer'),
  size: text('size').notNull(),
  preferredCategories: jsonb('preferred_categories').$type<string[]>().notNull(),
  address: jsonb('address').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
