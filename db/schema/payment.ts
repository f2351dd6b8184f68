/**
 * The payment domain's tables: cards on file, charges (one per business charge key), each attempt
 * at the PSP, and refunds.
 */
import { sql } from 'drizzle-orm';
import { check, index, integer, pgSchema, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const paymentSchema = pgSchema('payment');

/** The member's card on file (a PSP token), one per member. */
export const paymentMethods = paymentSchema.table('payment_methods', {
  customerId: text('customer_id').primaryKey(),
  cardToken: text('card_token').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** One row per charge key (`membership:<customerId>:<period>`, `purchase:<orderId>:<itemId>`, `shipping:<orderId>`). */
export const charges = paymentSchema.table(
  'charges',
  {
    chargeKey: text('charge_key').primaryKey(),
    customerId: text('customer_id').notNull(),
    purpose: text('purpose', { enum: ['membership', 'purchase', 'shipping'] }).notNull(),
    amountCents: integer('amount_cents').notNull(),
    currency: text('currency').notNull().default('EUR'),
    status: text('status', { enum: ['pending', 'captured', 'failed', 'refunded'] }).notNull(),
    pspChargeId: text('psp_charge_id'),
    orderId: text('order_id'),
    itemId: text('item_id'),
    period: text('period'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('charges_customer_idx').on(t.customerId),
    check('charges_amount_positive', sql`${t.amountCents} > 0`),
    check('charges_captured_has_psp_id', sql`${t.status} not in ('captured', 'refunded') or ${t.pspChargeId} is not null`),
  ],
);

/**
 * Each try of a charge key at the PSP (attempt 1, then one per dunning retry), with its own
 * idempotency key. The card token is fixed when the attempt is first made, so retries of the same
 * attempt send the same body (the PSP refuses a reused key with another body).
 */
export const chargeAttempts = paymentSchema.table(
  'charge_attempts',
  {
    chargeKey: text('charge_key')
      .notNull()
      .references(() => charges.chargeKey),
    attempt: integer('attempt').notNull(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    cardToken: text('card_token'),
    /**
     * pending: recorded before the PSP is called, in doubt until answered (or resolved by key);
     * refused: a final 4xx other than a decline; voided: resolved as never received by the PSP.
     */
    status: text('status', { enum: ['pending', 'captured', 'declined', 'refused', 'voided'] }).notNull(),
    declineCode: text('decline_code'),
    pspChargeId: text('psp_charge_id'),
    /** Workflow time at which the attempt was made (dunning schedule is checked on it). */
    attemptedAt: timestamp('attempted_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.chargeKey, t.attempt] }),
    // A charge key is captured at most once: a second captured attempt cannot be recorded.
    uniqueIndex('charge_attempts_one_capture_per_key')
      .on(t.chargeKey)
      .where(sql`${t.status} = 'captured'`),
  ],
);

/** At most one refund per charge key. */
export const refunds = paymentSchema.table('refunds', {
  chargeKey: text('charge_key')
    .primaryKey()
    .references(() => charges.chargeKey),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  amountCents: integer('amount_cents').notNull(),
  pspRefundId: text('psp_refund_id').notNull(),
  reason: text('reason').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
