/** Members and their credentials. Passwords are stored only as scrypt hashes. */
import { index, integer, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

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

/**
 * Login sessions: one per login or signup. Access tokens carry the session id (`sid`) and are
 * refused once it is revoked (logout); the refresh token is stored only as the SHA-256 of its
 * secret, and every refresh replaces it (rotation). Presenting a replaced refresh token revokes
 * the whole session (it was copied).
 */
export const sessions = authSchema.table(
  'sessions',
  {
    id: text('id').primaryKey(),
    customerId: text('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    /** The role the session was granted at login; tokens bind to it. */
    role: text('role', { enum: ['customer', 'admin'] }).notNull(),
    refreshHash: text('refresh_hash').notNull(),
    /** How many times the refresh token was rotated. */
    generation: integer('generation').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    revokedReason: text('revoked_reason'),
  },
  (t) => [index('sessions_customer_idx').on(t.customerId)],
);
