/** Members and their credentials (passwords only as scrypt hashes), sessions, signups awaiting e-mail verification and the e-mails they send. */
import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

export const authSchema = pgSchema('auth');

export const customers = authSchema.table('customers', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  name: text('name').notNull(),
  role: text('role', { enum: ['customer', 'admin'] })
    .notNull()
    .default('customer'),
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

/**
 * Signups waiting for their e-mail address to be confirmed (`POST /v1/auth/verify`). A row holds
 * what signup validated (the profile, the password already hashed, the card) and the SHA-256 of
 * its single-use token; the raw token exists only in the verification e-mail. Verifying sets
 * `consumed_at` and creates the member; the API deletes rows a day after they expired.
 */
export const signupRequests = authSchema.table(
  'signup_requests',
  {
    id: text('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    name: text('name').notNull(),
    size: text('size').notNull(),
    preferredCategories: jsonb('preferred_categories').$type<string[]>().notNull(),
    address: jsonb('address').notNull(),
    cardToken: text('card_token').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    consumedAt: timestamp('consumed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('signup_requests_expires_idx').on(t.expiresAt)],
);

/**
 * E-mails to send (a transactional outbox): written in the same statement as the signup that
 * needs them, sent by the API's mail relay (api/auth/mail-outbox.ts) with the row id as the
 * provider's Idempotency-Key. Once sent (or given up), `body` is scrubbed: a verification token
 * never stays in the database in clear.
 */
export const mailOutbox = authSchema.table(
  'mail_outbox',
  {
    id: text('id').primaryKey(),
    recipient: text('recipient').notNull(),
    template: text('template', { enum: ['verify-email', 'signup-attempt'] }).notNull(),
    subject: text('subject').notNull(),
    body: text('body'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** Past it the message is pointless (its token expired): the relay stops trying. */
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Not before then: a claim in progress or a backoff after a failed attempt. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastError: text('last_error'),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }),
    providerMessageId: text('provider_message_id'),
    /** The provider refused the message for good (a 4xx): no retry would change that. */
    failedAt: timestamp('failed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('mail_outbox_pending_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.sentAt} is null and ${t.failedAt} is null`),
  ],
);
