/** Operations: the audit trail of every admin API call (who, what, why, outcome). */
import { bigserial, index, integer, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

export const adminSchema = pgSchema('admin');

/** One row per admin API call, written when the response ends, whether it succeeded or not. */
export const auditLog = adminSchema.table(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The admin's customer id (from the access token). */
    actorId: text('actor_id').notNull(),
    /** `METHOD /path` as routed, e.g. `POST /admin/workflows/:workflowId/reset`. */
    action: text('action').notNull(),
    /** What the call was about: a workflow id, an order id, or a query string. */
    target: text('target'),
    /** Why: required on every call that changes something. */
    reason: text('reason'),
    requestId: text('request_id').notNull(),
    /** HTTP status answered. */
    status: integer('status').notNull(),
    /** `ok` or the problem type answered. */
    outcome: text('outcome').notNull(),
    /** Call-specific details (e.g. the reset point and the new run id). */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('audit_log_actor_idx').on(t.actorId, t.at), index('audit_log_target_idx').on(t.target, t.at)],
);
