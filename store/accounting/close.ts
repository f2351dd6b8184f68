/**
 * What the month-end close reads and stores: the delivery and posting checks over the event log,
 * the trial balance, the revenue summary, and the period lock. The checks are plain SQL through
 * drizzle's `sql` (set-returning JSON functions, window counts, anti-joins across the event
 * layer's tables: nothing the query builder says better); the writes are the builder's.
 */
import { count, countDistinct, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { journalEntries, periods } from '../../db/schema/accounting';
import type { RevenueSummary, UnbookedReason } from '../../workflows/accounting/contract';
import { BOOKED_EVENT_TYPES, moneyEvent } from './event-log';
import { ItemSold } from '../../workflows/accounting/contract';
import { ensurePeriod } from './journal';

/** A period's bounds as the event log's timestamps are compared with them. */
export interface PeriodRange {
  start: string;
  end: string;
}

/** An event's subscriber (alias `s.name` over `e.subscribers`) with no delivery recorded. */
const undeliveredSubscriber = sql`select 1 from jsonb_array_elements_text(e.subscribers) as s(name)
  where not exists (select 1 from events.deliveries d where d.event_id = e.id and d.subscriber = s.name)`;

/** Events of the period not yet delivered to every subscriber. */
export async function countUndelivered(db: Db, { start, end }: PeriodRange): Promise<number> {
  const [row] = await db.execute<{ undelivered: number }>(sql`
    select count(*)::int as undelivered from events.event_log e
    where e.occurred_at >= ${start} and e.occurred_at < ${end} and exists (${undeliveredSubscriber})`);
  return row!.undelivered;
}

/** Money events of the period delivered to accounting (not rejected) and not posted yet. */
export async function countUnposted(db: Db, { start, end }: PeriodRange): Promise<number> {
  const [row] = await db.execute<{ unposted: number }>(sql`
    select count(*)::int as unposted from events.event_log e
    where e.occurred_at >= ${start} and e.occurred_at < ${end}
      and e.type in ${BOOKED_EVENT_TYPES}
      and not (e.type = ${ItemSold.type} and coalesce((e.data->>'costCents')::bigint, 0) = 0)
      and exists (select 1 from events.deliveries d where d.event_id = e.id and d.subscriber like 'accounting.%' and d.outcome <> 'rejected')
      and not exists (select 1 from accounting.journal_entries j where j.source_event_id = e.id)`);
  return row!.unposted;
}

/** Money events of the period with no entry (at most `limit`, a closed ledger's first) and how many there are. */
export async function unbookedInPeriod(
  db: Db,
  { start, end }: PeriodRange,
  limit: number,
): Promise<{ rows: { eventId: string; type: string; customerId: string | null; reason: UnbookedReason }[]; total: number }> {
  const rows = await db.execute<{ id: string; type: string; customer_id: string | null; reason: UnbookedReason; total: number }>(sql`
    select id, type, customer_id, reason, count(*) over ()::int as total from (
      select e.seq, e.id, e.type, e.data->>'customerId' as customer_id,
             case when exists (select 1 from events.deliveries d where d.event_id = e.id and d.subscriber like 'accounting.%' and d.outcome = 'rejected')
                  then 'ledger-closed' else 'in-flight' end as reason
      from events.event_log e
      where e.occurred_at >= ${start} and e.occurred_at < ${end} and ${moneyEvent()}
        and not exists (select 1 from accounting.journal_entries j where j.source_event_id = e.id)) u
    order by (reason = 'ledger-closed') desc, seq
    limit ${limit}`);
  return {
    rows: rows.map((r) => ({ eventId: r.id, type: r.type, customerId: r.customer_id, reason: r.reason })),
    total: rows[0]?.total ?? 0,
  };
}

/** Events of the period with a subscriber missing its delivery (at most `limit`), and which subscribers. */
export async function undeliveredEvents(db: Db, { start, end }: PeriodRange, limit: number): Promise<{ eventId: string; type: string; missing: string[] }[]> {
  const rows = await db.execute<{ id: string; type: string; missing: string[] }>(sql`
    select e.id, e.type, (select jsonb_agg(s.name order by s.name) from jsonb_array_elements_text(e.subscribers) as s(name)
                          where not exists (select 1 from events.deliveries d where d.event_id = e.id and d.subscriber = s.name)) as missing
    from events.event_log e
    where e.occurred_at >= ${start} and e.occurred_at < ${end} and exists (${undeliveredSubscriber})
    order by e.seq limit ${limit}`);
  return rows.map((r) => ({ eventId: r.id, type: r.type, missing: r.missing }));
}

/** Per-account debit and credit sums of the period (every account, zero when unused). */
export async function accountTotals(db: Db, period: string): Promise<{ account: string; debitCents: number; creditCents: number }[]> {
  const rows = await db.execute<{ account: string; debit: string; credit: string }>(sql`
    select a.code as account,
           coalesce(sum(l.debit_cents), 0)::text as debit,
           coalesce(sum(l.credit_cents), 0)::text as credit
    from accounting.accounts a
    left join (accounting.journal_lines l join accounting.journal_entries e on e.id = l.entry_id and e.period = ${period})
      on l.account = a.code
    group by a.code order by a.code`);
  return rows.map((r) => ({ account: r.account, debitCents: Number(r.debit), creditCents: Number(r.credit) }));
}

/** Entries of the period whose lines do not balance (at most 10). */
export async function unbalancedEntries(db: Db, period: string): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select e.id from accounting.journal_entries e left join accounting.journal_lines l on l.entry_id = e.id
    where e.period = ${period}
    group by e.id having coalesce(sum(l.debit_cents), 0) <> coalesce(sum(l.credit_cents), 0) limit 10`);
  return rows.map((r) => r.id);
}

/** Net credit per account over the period's lines. */
export async function accountNets(db: Db, period: string): Promise<Map<string, number>> {
  const rows = await db.execute<{ account: string; net: string }>(sql`
    select l.account, (sum(l.credit_cents) - sum(l.debit_cents))::text as net
    from accounting.journal_lines l join accounting.journal_entries e on e.id = l.entry_id
    where e.period = ${period} group by l.account`);
  return new Map(rows.map((r) => [r.account, Number(r.net)]));
}

/** How many entries the period has, and of how many customers. */
export async function entryCounts(db: Db, period: string): Promise<{ entries: number; customers: number }> {
  const [row] = await db
    .select({ entries: count(), customers: countDistinct(journalEntries.customerId) })
    .from(journalEntries)
    .where(eq(journalEntries.period, period));
  return row!;
}

/** Stores a close step's figures on the period (created open if new). */
export async function saveOnPeriod(db: Db, period: string, figures: { trialBalance: unknown } | { summary: RevenueSummary }): Promise<void> {
  await ensurePeriod(db, period);
  await db.update(periods).set(figures).where(eq(periods.period, period));
}

/** Locks the period (idempotent: the first lock's time stands); from now on the database refuses postings into it. */
export async function lockPeriod(db: Db, period: string): Promise<Date> {
  const [row] = await db
    .insert(periods)
    .values({ period, status: 'locked', lockedAt: sql`now()` })
    .onConflictDoUpdate({ target: periods.period, set: { status: 'locked', lockedAt: sql`coalesce(${periods.lockedAt}, now())` } })
    .returning({ lockedAt: periods.lockedAt });
  return row!.lockedAt!;
}
