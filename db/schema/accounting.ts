/**
 * The accounting domain's double-entry ledger. The database itself guards the books: CHECKs on
 * every line, a deferred constraint trigger that refuses an unbalanced entry at COMMIT, and a
 * trigger that refuses postings into a locked period (both in the `ledger_balance` migration).
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, jsonb, pgSchema, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const accountingSchema = pgSchema('accounting');

/** Chart of accounts (seeded by the migration). */
export const accounts = accountingSchema.table(
  'accounts',
  {
    code: text('code').primaryKey(),
    name: text('name').notNull(),
    /** asset | revenue | expense | contra-revenue */
    kind: text('kind', { enum: ['asset', 'revenue', 'expense', 'contra-revenue'] }).notNull(),
  },
  (t) => [check('accounts_kind_check', sql`${t.kind} in ('asset', 'revenue', 'expense', 'contra-revenue')`)],
);

/** Accounting periods (calendar months, UTC). A locked period accepts no posting. */
export const periods = accountingSchema.table(
  'periods',
  {
    period: text('period').primaryKey(),
    status: text('status', { enum: ['open', 'locked'] })
      .notNull()
      .default('open'),
    lockedAt: timestamp('locked_at', { withTimezone: true, mode: 'date' }),
    /** Written by the month-end close: the trial balance and the revenue summary it computed. */
    trialBalance: jsonb('trial_balance'),
    summary: jsonb('summary'),
  },
  (t) => [
    check('periods_period_format', sql`${t.period} ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'`),
    check('periods_status_check', sql`${t.status} in ('open', 'locked')`),
  ],
);

/** One journal entry per source event, numbered in causal order per customer. */
export const journalEntries = accountingSchema.table(
  'journal_entries',
  {
    id: text('id').primaryKey(),
    customerId: text('customer_id').notNull(),
    period: text('period')
      .notNull()
      .references(() => periods.period),
    /** The event that caused the entry: unique, so a redelivered event posts nothing more. */
    sourceEventId: text('source_event_id').notNull(),
    sourceEventType: text('source_event_type').notNull(),
    /** The charge a payment entry belongs to; a refund posts only after its capture's entry. */
    chargeKey: text('charge_key'),
    description: text('description').notNull(),
    /** Causal sequence of the entry among the customer's entries (1, 2, ...). */
    customerSeq: integer('customer_seq').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    postedAt: timestamp('posted_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('journal_entries_source_event_uq').on(t.sourceEventId),
    uniqueIndex('journal_entries_customer_seq_uq').on(t.customerId, t.customerSeq),
    index('journal_entries_period_idx').on(t.period, t.customerId),
    index('journal_entries_charge_idx').on(t.chargeKey),
    check('journal_entries_period_format', sql`${t.period} ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'`),
    check('journal_entries_customer_seq_positive', sql`${t.customerSeq} > 0`),
  ],
);

/** Debit or credit lines of an entry: exactly one side is non-zero, neither is negative. */
export const journalLines = accountingSchema.table(
  'journal_lines',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    entryId: text('entry_id')
      .notNull()
      .references(() => journalEntries.id),
    account: text('account')
      .notNull()
      .references(() => accounts.code),
    debitCents: bigint('debit_cents', { mode: 'number' }).notNull().default(0),
    creditCents: bigint('credit_cents', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    index('journal_lines_entry_idx').on(t.entryId),
    check('journal_lines_non_negative', sql`${t.debitCents} >= 0 and ${t.creditCents} >= 0`),
    check('journal_lines_one_side', sql`(${t.debitCents} = 0) <> (${t.creditCents} = 0)`),
  ],
);
