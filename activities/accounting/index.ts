/**
 * Accounting activities: posting one journal entry per source event (the database enforces the
 * double entry and the period lock), and the month-end close steps.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import type { Database } from '../../db/client';
import { ItemSold, periodBounds, periodOf, shiftPeriod, type RevenueSummary, type UnbookedReason } from '../../workflows/accounting/contract';
import { FailureType } from '../../workflows/failures';
import { PaymentCaptured, PaymentRefunded } from '../../workflows/payment/contract';
import { BOOKED_EVENT_TYPES, moneyEvent, unbookedMoneyEventsOf } from '../../store/accounting/event-log';
import { entryFor } from './entries';
import type {
  PostEventInput,
  PostEventResult,
  PeriodInput,
  UndeliveredResult,
  FindUnbookedEventsInput,
  FindUnbookedEventsResult,
  TrialBalanceResult,
  AccountingActivities,
} from '../../workflows/accounting/contract';

/** Entry id of a source event: deterministic, so a retry names the same entry. */
export const entryIdFor = (eventId: string): string => `je:${eventId}`;

/** Postgres SQLSTATE raised by the period-lock trigger. */
export const PERIOD_LOCKED_SQLSTATE = 'CF001';

const MAX_PERIODS_FORWARD = 24;
/** Most events one ledger sweep returns (the ledger carries what it has not applied across continue-as-new). */
export const SWEEP_BATCH = 100;
/** Most events a close check lists by id. */
export const REPORTED_EVENTS = 100;

export function createAccountingActivities({ database }: { database: Database }): AccountingActivities {
  const { sql } = database;

  return {
    /**
     * Posts the event's journal entry, once: `ON CONFLICT (source_event_id) DO NOTHING` in the
     * same transaction as the lines, numbered after the customer's previous entry. An event whose
     * own period is already locked (it arrived after the close) posts into the next open period.
     */
    async postEvent({ event }: PostEventInput): Promise<PostEventResult> {
      const spec = entryFor(event);
      if (spec.lines.length === 0) return { posted: false, entryId: null, period: null, customerSeq: null };
      const entryId = entryIdFor(event.id);
      return sql.begin(async (tx) => {
        const [existing] = await tx<{ period: string; customer_seq: number }[]>`
          select period, customer_seq from accounting.journal_entries where source_event_id = ${event.id}`;
        if (existing) return { posted: false, entryId, period: existing.period, customerSeq: existing.customer_seq };

        if (spec.chargeKey && event.type === PaymentRefunded.type) {
          const [capture] =
            await tx`select 1 from accounting.journal_entries where charge_key = ${spec.chargeKey} and source_event_type = ${PaymentCaptured.type}`;
          if (!capture) {
            throw ApplicationFailure.create({
              type: FailureType.NotFound,
              message: `refund ${event.id} before the capture of ${spec.chargeKey} is posted`,
              nonRetryable: true,
            });
          }
        }

        let period = periodOf(event.occurredAt);
        for (let i = 0; ; i++) {
          await tx`insert into accounting.periods (period) values (${period}) on conflict (period) do nothing`;
          const [row] = await tx<{ status: string }[]>`select status from accounting.periods where period = ${period} for share`;
          if (row.status === 'open') break;
          if (i >= MAX_PERIODS_FORWARD) {
            throw ApplicationFailure.create({
              type: FailureType.PeriodLocked,
              message: `no open period within ${MAX_PERIODS_FORWARD} months after ${periodOf(event.occurredAt)}`,
              nonRetryable: true,
            });
          }
          log.warn('event arrived after its period was closed: posting into the next open period', { eventId: event.id, locked: period });
          period = shiftPeriod(period, 1);
        }

        // Entries of one customer are numbered in the order they post; the ledger workflow posts them one at a time.
        await tx`select pg_advisory_xact_lock(hashtext(${`ledger:${spec.customerId}`}))`;
        const [{ seq }] = await tx<{ seq: number }[]>`
          select coalesce(max(customer_seq), 0)::int + 1 as seq from accounting.journal_entries where customer_id = ${spec.customerId}`;
        const inserted = await tx`
          insert into accounting.journal_entries
            (id, customer_id, period, source_event_id, source_event_type, charge_key, description, customer_seq, occurred_at)
          values (${entryId}, ${spec.customerId}, ${period}, ${event.id}, ${event.type}, ${spec.chargeKey}, ${spec.description}, ${seq}, ${event.occurredAt})
          on conflict (source_event_id) do nothing
          returning id`;
        if (inserted.length === 0) return { posted: false, entryId, period, customerSeq: null };
        for (const line of spec.lines) {
          await tx`insert into accounting.journal_lines (entry_id, account, debit_cents, credit_cents)
                   values (${entryId}, ${line.account}, ${line.debitCents}, ${line.creditCents})`;
        }
        log.info('journal entry posted', { eventId: event.id, entryId, customerId: spec.customerId, period, customerSeq: seq });
        return { posted: true, entryId, period, customerSeq: seq };
      });
    },

    /** True when the capture of `chargeKey` has its journal entry. */
    async isCapturePosted({ chargeKey }: { chargeKey: string }): Promise<boolean> {
      const rows = await sql`select 1 from accounting.journal_entries where charge_key = ${chargeKey} and source_event_type = ${PaymentCaptured.type} limit 1`;
      return rows.length > 0;
    },

    /**
     * The ledger's sweep: this customer's money events in the event log without a journal entry
     * (lost with a terminated run, rejected by a closed ledger, or simply not booked yet). Posting
     * is idempotent by source event id, so booking one that is also on its way does no harm.
     */
    async findUnbookedEvents({ customerId }: FindUnbookedEventsInput): Promise<FindUnbookedEventsResult> {
      const found = await unbookedMoneyEventsOf(database, customerId, SWEEP_BATCH + 1);
      const events = found.slice(0, SWEEP_BATCH);
      if (events.length > 0) log.info('ledger sweep found unbooked money events', { customerId, events: events.length, more: found.length > SWEEP_BATCH });
      return { events, more: found.length > SWEEP_BATCH };
    },

    /**
     * Close step 1 (one check): events of the period not yet delivered to every subscriber, money
     * events not yet posted, and which money events have no entry and why.
     */
    async countUndeliveredEvents({ period }: PeriodInput): Promise<UndeliveredResult> {
      const { start: startAt, end: endAt } = periodBounds(period);
      const [start, end] = [startAt.toISOString(), endAt.toISOString()];
      const [{ undelivered }] = await sql<{ undelivered: number }[]>`
        select count(*)::int as undelivered from events.event_log e
        where e.occurred_at >= ${start} and e.occurred_at < ${end}
          and exists (
            select 1 from jsonb_array_elements_text(e.subscribers) as s(name)
            where not exists (select 1 from events.deliveries d where d.event_id = e.id and d.subscriber = s.name))`;
      const [{ unposted }] = await sql<{ unposted: number }[]>`
        select count(*)::int as unposted from events.event_log e
        where e.occurred_at >= ${start} and e.occurred_at < ${end}
          and e.type in ${sql(BOOKED_EVENT_TYPES)}
          and not (e.type = ${ItemSold.type} and coalesce((e.data->>'costCents')::bigint, 0) = 0)
          and exists (select 1 from events.deliveries d where d.event_id = e.id and d.subscriber like 'accounting.%' and d.outcome <> 'rejected')
          and not exists (select 1 from accounting.journal_entries j where j.source_event_id = e.id)`;
      const unbookedRows = await sql<{ id: string; type: string; customer_id: string | null; reason: UnbookedReason; total: number }[]>`
        select id, type, customer_id, reason, count(*) over ()::int as total from (
          select e.seq, e.id, e.type, e.data->>'customerId' as customer_id,
                 case when exists (select 1 from events.deliveries d where d.event_id = e.id and d.subscriber like 'accounting.%' and d.outcome = 'rejected')
                      then 'ledger-closed' else 'in-flight' end as reason
          from events.event_log e
          where e.occurred_at >= ${start} and e.occurred_at < ${end} and ${moneyEvent(sql)}
            and not exists (select 1 from accounting.journal_entries j where j.source_event_id = e.id)) u
        order by (reason = 'ledger-closed') desc, seq
        limit ${REPORTED_EVENTS}`;
      const undeliveredEvents =
        undelivered === 0
          ? []
          : await sql<{ id: string; type: string; missing: string[] }[]>`
              select e.id, e.type, (select jsonb_agg(s.name order by s.name) from jsonb_array_elements_text(e.subscribers) as s(name)
                                    where not exists (select 1 from events.deliveries d where d.event_id = e.id and d.subscriber = s.name)) as missing
              from events.event_log e
              where e.occurred_at >= ${start} and e.occurred_at < ${end}
                and exists (
                  select 1 from jsonb_array_elements_text(e.subscribers) as s(name)
                  where not exists (select 1 from events.deliveries d where d.event_id = e.id and d.subscriber = s.name))
              order by e.seq limit ${REPORTED_EVENTS}`;
      return {
        undelivered,
        unposted,
        unbooked: unbookedRows.map((r) => ({ eventId: r.id, type: r.type, customerId: r.customer_id, reason: r.reason })),
        unbookedTotal: unbookedRows[0]?.total ?? 0,
        undeliveredEvents: undeliveredEvents.map((r) => ({ eventId: r.id, type: r.type, missing: r.missing })),
      };
    },

    /**
     * Close step 2: per-account sums of the period. Fails with a non-retryable LedgerUnbalanced
     * when total debits ≠ total credits, or any entry of the period is unbalanced.
     */
    async trialBalance({ period }: PeriodInput): Promise<TrialBalanceResult> {
      const raw = await sql<{ account: string; debit: string; credit: string }[]>`
        select a.code as account,
               coalesce(sum(l.debit_cents), 0)::text as debit,
               coalesce(sum(l.credit_cents), 0)::text as credit
        from accounting.accounts a
        left join (accounting.journal_lines l join accounting.journal_entries e on e.id = l.entry_id and e.period = ${period})
          on l.account = a.code
        group by a.code order by a.code`;
      const rows = raw.map((r) => ({ account: r.account, debitCents: Number(r.debit), creditCents: Number(r.credit) }));
      const totalDebitCents = rows.reduce((s, r) => s + r.debitCents, 0);
      const totalCreditCents = rows.reduce((s, r) => s + r.creditCents, 0);
      const unbalanced = await sql<{ id: string }[]>`
        select e.id from accounting.journal_entries e left join accounting.journal_lines l on l.entry_id = e.id
        where e.period = ${period}
        group by e.id having coalesce(sum(l.debit_cents), 0) <> coalesce(sum(l.credit_cents), 0) limit 10`;
      await sql`insert into accounting.periods (period) values (${period}) on conflict (period) do nothing`;
      await sql`update accounting.periods set trial_balance = ${JSON.stringify({ rows, totalDebitCents, totalCreditCents })}::jsonb where period = ${period}`;
      if (totalDebitCents !== totalCreditCents || unbalanced.length > 0) {
        throw ApplicationFailure.create({
          type: FailureType.LedgerUnbalanced,
          message: `period ${period} does not balance: debits ${totalDebitCents} ≠ credits ${totalCreditCents}${unbalanced.length ? `; unbalanced entries: ${unbalanced.map((u) => u.id).join(', ')}` : ''}`,
          nonRetryable: true,
          details: [{ period, totalDebitCents, totalCreditCents, unbalancedEntries: unbalanced.map((u) => u.id) }],
        });
      }
      return { rows, totalDebitCents, totalCreditCents };
    },

    /** Close step 3: revenue, refunds and cost of goods sold of the period, stored on the period. */
    async revenueSummary({ period }: PeriodInput): Promise<RevenueSummary> {
      const raw = await sql<{ account: string; net: string }[]>`
        select l.account, (sum(l.credit_cents) - sum(l.debit_cents))::text as net
        from accounting.journal_lines l join accounting.journal_entries e on e.id = l.entry_id
        where e.period = ${period} group by l.account`;
      const credit = new Map(raw.map((r) => [r.account, Number(r.net)]));
      const [{ entries, customers }] = await sql<{ entries: number; customers: number }[]>`
        select count(*)::int as entries, count(distinct customer_id)::int as customers from accounting.journal_entries where period = ${period}`;
      const membershipRevenueCents = credit.get('membership_revenue') ?? 0;
      const salesRevenueCents = credit.get('sales_revenue') ?? 0;
      const shippingRevenueCents = credit.get('shipping_revenue') ?? 0;
      const refundsCents = -(credit.get('refunds') ?? 0);
      const costOfGoodsSoldCents = -(credit.get('cost_of_goods_sold') ?? 0);
      const netRevenueCents = membershipRevenueCents + salesRevenueCents + shippingRevenueCents - refundsCents;
      const summary: RevenueSummary = {
        membershipRevenueCents,
        salesRevenueCents,
        shippingRevenueCents,
        refundsCents,
        netRevenueCents,
        costOfGoodsSoldCents,
        grossMarginCents: netRevenueCents - costOfGoodsSoldCents,
        entries,
        customers,
      };
      await sql`insert into accounting.periods (period) values (${period}) on conflict (period) do nothing`;
      await sql`update accounting.periods set summary = ${JSON.stringify(summary)}::jsonb where period = ${period}`;
      return summary;
    },

    /** Close step 4: locks the period (idempotent); from now on the database refuses postings into it. */
    async lockPeriod({ period }: PeriodInput): Promise<{ lockedAt: string }> {
      const [row] = await sql<{ locked_at: Date }[]>`
        insert into accounting.periods (period, status, locked_at) values (${period}, 'locked', now())
        on conflict (period) do update set status = 'locked', locked_at = coalesce(accounting.periods.locked_at, now())
        returning locked_at`;
      log.info('period locked', { period });
      return { lockedAt: new Date(row.locked_at).toISOString() };
    },
  };
}
