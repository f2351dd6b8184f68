/**
 * Accounting activities: posting one journal entry per source event (the database enforces the
 * double entry and the period lock), and the month-end close steps.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import type { Database } from '../../db/client';
import { periodBounds, periodOf, shiftPeriod, type RevenueSummary } from '../../workflows/accounting/contract';
import { FailureType } from '../../workflows/failures';
import { PaymentRefunded } from '../../workflows/payment/contract';
import {
  accountNets,
  accountTotals,
  countUndelivered,
  countUnposted,
  entryCounts,
  lockPeriod,
  saveOnPeriod,
  unbalancedEntries,
  unbookedInPeriod,
  undeliveredEvents,
} from '../../store/accounting/close';
import { unbookedMoneyEventsOf } from '../../store/accounting/event-log';
import { entryOfEvent, insertEntry, isCapturePosted, nextCustomerSeq, periodStatusForPosting } from '../../store/accounting/journal';
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

export function createAccountingActivities({ database }: { database: Pick<Database, 'db'> }): AccountingActivities {
  const { db } = database;

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
      return db.transaction(async (tx) => {
        const existing = await entryOfEvent(tx, event.id);
        if (existing) return { posted: false, entryId, period: existing.period, customerSeq: existing.customerSeq };

        if (spec.chargeKey && event.type === PaymentRefunded.type && !(await isCapturePosted(tx, spec.chargeKey))) {
          throw ApplicationFailure.create({
            type: FailureType.NotFound,
            message: `refund ${event.id} before the capture of ${spec.chargeKey} is posted`,
            nonRetryable: true,
          });
        }

        let period = periodOf(event.occurredAt);
        for (let i = 0; ; i++) {
          if ((await periodStatusForPosting(tx, period)) === 'open') break;
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
        const seq = await nextCustomerSeq(tx, spec.customerId);
        const posted = await insertEntry(
          tx,
          {
            id: entryId,
            customerId: spec.customerId,
            period,
            sourceEventId: event.id,
            sourceEventType: event.type,
            chargeKey: spec.chargeKey,
            description: spec.description,
            customerSeq: seq,
            occurredAt: new Date(event.occurredAt),
          },
          spec.lines,
        );
        if (!posted) return { posted: false, entryId, period, customerSeq: null };
        log.info('journal entry posted', { eventId: event.id, entryId, customerId: spec.customerId, period, customerSeq: seq });
        return { posted: true, entryId, period, customerSeq: seq };
      });
    },

    /** True when the capture of `chargeKey` has its journal entry. */
    async isCapturePosted({ chargeKey }: { chargeKey: string }): Promise<boolean> {
      return isCapturePosted(db, chargeKey);
    },

    /**
     * The ledger's sweep: this customer's money events in the event log without a journal entry
     * (lost with a terminated run, rejected by a closed ledger, or simply not booked yet). Posting
     * is idempotent by source event id, so booking one that is also on its way does no harm.
     */
    async findUnbookedEvents({ customerId }: FindUnbookedEventsInput): Promise<FindUnbookedEventsResult> {
      const found = await unbookedMoneyEventsOf(db, customerId, SWEEP_BATCH + 1);
      const events = found.slice(0, SWEEP_BATCH);
      if (events.length > 0) log.info('ledger sweep found unbooked money events', { customerId, events: events.length, more: found.length > SWEEP_BATCH });
      return { events, more: found.length > SWEEP_BATCH };
    },

    /**
     * Close step 1 (one check): events of the period not yet delivered to every subscriber, money
     * events not yet posted, and which money events have no entry and why.
     */
    async countUndeliveredEvents({ period }: PeriodInput): Promise<UndeliveredResult> {
      const { start, end } = periodBounds(period);
      const range = { start: start.toISOString(), end: end.toISOString() };
      const undelivered = await countUndelivered(db, range);
      const unposted = await countUnposted(db, range);
      const unbooked = await unbookedInPeriod(db, range, REPORTED_EVENTS);
      return {
        undelivered,
        unposted,
        unbooked: unbooked.rows,
        unbookedTotal: unbooked.total,
        undeliveredEvents: undelivered === 0 ? [] : await undeliveredEvents(db, range, REPORTED_EVENTS),
      };
    },

    /**
     * Close step 2: per-account sums of the period. Fails with a non-retryable LedgerUnbalanced
     * when total debits ≠ total credits, or any entry of the period is unbalanced.
     */
    async trialBalance({ period }: PeriodInput): Promise<TrialBalanceResult> {
      const rows = await accountTotals(db, period);
      const totalDebitCents = rows.reduce((s, r) => s + r.debitCents, 0);
      const totalCreditCents = rows.reduce((s, r) => s + r.creditCents, 0);
      const unbalanced = await unbalancedEntries(db, period);
      await saveOnPeriod(db, period, { trialBalance: { rows, totalDebitCents, totalCreditCents } });
      if (totalDebitCents !== totalCreditCents || unbalanced.length > 0) {
        throw ApplicationFailure.create({
          type: FailureType.LedgerUnbalanced,
          message: `period ${period} does not balance: debits ${totalDebitCents} ≠ credits ${totalCreditCents}${unbalanced.length ? `; unbalanced entries: ${unbalanced.join(', ')}` : ''}`,
          nonRetryable: true,
          details: [{ period, totalDebitCents, totalCreditCents, unbalancedEntries: unbalanced }],
        });
      }
      return { rows, totalDebitCents, totalCreditCents };
    },

    /** Close step 3: revenue, refunds and cost of goods sold of the period, stored on the period. */
    async revenueSummary({ period }: PeriodInput): Promise<RevenueSummary> {
      const credit = await accountNets(db, period);
      const { entries, customers } = await entryCounts(db, period);
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
      await saveOnPeriod(db, period, { summary });
      return summary;
    },

    /** Close step 4: locks the period (idempotent); from now on the database refuses postings into it. */
    async lockPeriod({ period }: PeriodInput): Promise<{ lockedAt: string }> {
      const lockedAt = await lockPeriod(db, period);
      log.info('period locked', { period });
      return { lockedAt: new Date(lockedAt).toISOString() };
    },
  };
}
