/**
 * The public API's own state: Idempotency-Key records (IETF draft-ietf-httpapi-idempotency-key-header).
 * A key is scoped to the member who sent it; the first request with it stores its response, and
 * later requests with the same key and body get that response again until `expires_at`.
 */
import { integer, jsonb, pgSchema, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const apiSchema = pgSchema('api');

export const idempotencyKeys = apiSchema.table(
  'idempotency_keys',
  {
    customerId: text('customer_id').notNull(),
    key: text('key').notNull(),
    /** SHA-256 of method, path and canonical JSON body: the same key with another request is 422. */
    fingerprint: text('fingerprint').notNull(),
    /** `in_flight` while the first request runs, `completed` once its response is stored. */
    state: text('state', { enum: ['in_flight', 'completed'] }).notNull(),
    /** When the in-flight request took the key; a stale lock (crashed process) can be taken over. */
    lockedAt: timestamp('locked_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    responseStatus: integer('response_status'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBody: text('response_body'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.key] })],
);

/**
 * Rate-limit and login-throttle windows, shared by every API process: one row per limited key
 * (`<limit>:<key>`), its count in the current fixed window and when that window ends. A hit is
 * one upsert, so N replicas together enforce one budget. Expired rows are swept by the API.
 */
export const rateWindows = apiSchema.table('rate_windows', {
  key: text('key').primaryKey(),
  count: integer('count').notNull(),
  resetAt: timestamp('reset_at', { withTimezone: true, mode: 'date' }).notNull(),
});
