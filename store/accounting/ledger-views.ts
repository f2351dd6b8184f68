/** The ledger as ops read it (GET /admin/accounting/trial-balance and /ledger): read-only views. */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { accounts, journalEntries, journalLines, periods } from '../../db/schema/accounting';

/** One account's sums over a period. */
export interface AccountTotal {
  account: string;
  name: string;
  kind: string;
  debitCents: number;
  creditCents: number;
}

/** Every account's debit and credit sums over the period (zero when unused), and the period's status. */
export async function trialBalanceView(db: Db, period: string): Promise<{ accounts: AccountTotal[]; status: 'open' | 'locked'; lockedAt: Date | null }> {
  const rows = await db.execute<{ account: string; name: string; kind: string; debit: string; credit: string }>(sql`
    select a.code as account, a.name, a.kind,
           coalesce(sum(l.debit_cents), 0)::text as debit, coalesce(sum(l.credit_cents), 0)::text as credit
    from ${accounts} a
    left join (${journalLines} l join ${journalEntries} e on e.id = l.entry_id and e.period = ${period})
      on l.account = a.code
    group by a.code, a.name, a.kind order by a.code`);
  const [status] = await db.select({ status: periods.status, lockedAt: periods.lockedAt }).from(periods).where(eq(periods.period, period));
  return {
    accounts: rows.map((r) => ({ account: r.account, name: r.name, kind: r.kind, debitCents: Number(r.debit), creditCents: Number(r.credit) })),
    status: status?.status ?? 'open',
    lockedAt: status?.lockedAt ?? null,
  };
}

export type LedgerEntry = Omit<typeof journalEntries.$inferSelect, 'period'> & { lines: { account: string; debitCents: number; creditCents: number }[] };

/** Up to `limit` entries of the period (one customer's, or everyone's), by customer and sequence, with their lines. */
export async function ledgerEntries(db: Db, { period, customerId, limit }: { period: string; customerId?: string; limit: number }): Promise<LedgerEntry[]> {
  const entries = await db
    .select({
      id: journalEntries.id,
      customerId: journalEntries.customerId,
      customerSeq: journalEntries.customerSeq,
      sourceEventId: journalEntries.sourceEventId,
      sourceEventType: journalEntries.sourceEventType,
      chargeKey: journalEntries.chargeKey,
      description: journalEntries.description,
      occurredAt: journalEntries.occurredAt,
      postedAt: journalEntries.postedAt,
    })
    .from(journalEntries)
    .where(and(eq(journalEntries.period, period), customerId ? eq(journalEntries.customerId, customerId) : undefined))
    .orderBy(asc(journalEntries.customerId), asc(journalEntries.customerSeq))
    .limit(limit);
  const lines = entries.length
    ? await db
        .select({ entryId: journalLines.entryId, account: journalLines.account, debitCents: journalLines.debitCents, creditCents: journalLines.creditCents })
        .from(journalLines)
        .where(
          inArray(
            journalLines.entryId,
            entries.map((e) => e.id),
          ),
        )
        .orderBy(asc(journalLines.id))
    : [];
  return entries.map((e) => ({
    ...e,
    lines: lines.filter((l) => l.entryId === e.id).map(({ account, debitCents, creditCents }) => ({ account, debitCents, creditCents })),
  }));
}
