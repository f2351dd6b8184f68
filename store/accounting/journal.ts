/**
 * The ledger (`accounting.journal_entries`, `journal_lines`, `periods`): what posting one event
 * reads and writes, inside the posting activity's transaction. The database enforces the double
 * entry (at commit) and the period lock (a trigger); these functions only say what to write.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { journalEntries, journalLines, periods } from '../../db/schema/accounting';
import { PaymentCaptured } from '../../workflows/payment/contract';

/** A transaction, or the database itself. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Conn = Db | Tx;

/** One line of an entry: exactly one side is non-zero. */
export interface JournalLine {
  account: string;
  debitCents: number;
  creditCents: number;
}

/** The entry an event already posted (period and sequence), if any. */
export async function entryOfEvent(db: Conn, eventId: string): Promise<{ period: string; customerSeq: number } | undefined> {
  const [row] = await db
    .select({ period: journalEntries.period, customerSeq: journalEntries.customerSeq })
    .from(journalEntries)
    .where(eq(journalEntries.sourceEventId, eventId));
  return row;
}

/** True when the capture of `chargeKey` has its journal entry. */
export async function isCapturePosted(db: Conn, chargeKey: string): Promise<boolean> {
  const rows = await db
    .select({ id: journalEntries.id })
    .from(journalEntries)
    .where(and(eq(journalEntries.chargeKey, chargeKey), eq(journalEntries.sourceEventType, PaymentCaptured.type)))
    .limit(1);
  return rows.length > 0;
}

/** The period's row (created open if new), read under a share lock so a close cannot lock it while an entry posts into it. */
export async function periodStatusForPosting(tx: Tx, period: string): Promise<'open' | 'locked'> {
  await ensurePeriod(tx, period);
  const [row] = await tx.select({ status: periods.status }).from(periods).where(eq(periods.period, period)).for('share');
  return row!.status;
}

/** Creates the period's row (open) if it has none. */
export async function ensurePeriod(db: Conn, period: string): Promise<void> {
  await db.insert(periods).values({ period }).onConflictDoNothing({ target: periods.period });
}

/**
 * The customer's next entry number. Takes a transaction-scoped lock on the customer's ledger
 * first: entries of one customer are numbered in the order they post.
 */
export async function nextCustomerSeq(tx: Tx, customerId: string): Promise<number> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`ledger:${customerId}`}))`);
  const [{ seq }] = await tx
    .select({ seq: sql<number>`coalesce(max(${journalEntries.customerSeq}), 0)::int + 1` })
    .from(journalEntries)
    .where(eq(journalEntries.customerId, customerId));
  return seq;
}

/** Writes an entry and its lines; false (nothing written) when the event already has one. */
export async function insertEntry(tx: Tx, entry: typeof journalEntries.$inferInsert, lines: JournalLine[]): Promise<boolean> {
  const inserted = await tx
    .insert(journalEntries)
    .values(entry)
    .onConflictDoNothing({ target: journalEntries.sourceEventId })
    .returning({ id: journalEntries.id });
  if (inserted.length === 0) return false;
  for (const line of lines) await tx.insert(journalLines).values({ entryId: entry.id, ...line });
  return true;
}
