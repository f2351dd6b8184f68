/** Public contract of the accounting domain: the double-entry ledger and the month-end close. */
import { z } from 'zod';
import { defineSignal } from '@temporalio/workflow';
import { defineEvent, type EventEnvelope } from '../bus/contract';
import { defineWorkflow } from '../workflow-ref';

/** Task queue of the accounting worker. */
export const ACCOUNTING_TASK_QUEUE = 'accounting';

/** Workflow id of a customer's ledger (one long-lived workflow per customer, continued as new). */
export const ledgerWorkflowId = (customerId: string): string => `ledger:${customerId}`;
/** Workflow id of the close of one period (`YYYY-MM`). */
export const monthlyCloseWorkflowId = (period: string): string => `close:${period}`;
/** Id of the Temporal Schedule that runs the month-end close. */
export const MONTHLY_CLOSE_SCHEDULE_ID = 'accounting-monthly-close';

/** A period is a calendar month in UTC, `YYYY-MM`. */
export const PERIOD_PATTERN = /^[0-9]{4}-(0[1-9]|1[0-2])$/;
export const periodSchema = z.string().regex(PERIOD_PATTERN, 'a period is YYYY-MM');

/** The UTC period of an instant. */
export function periodOf(instant: Date | string): string {
  const d = typeof instant === 'string' ? new Date(instant) : instant;
  return `${d.getUTCFullYear().toString().padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}
/** The period `delta` months after `period` (negative: before). */
export function shiftPeriod(period: string, delta: number): string {
  const [y, m] = period.split('-').map(Number);
  return periodOf(new Date(Date.UTC(y, m - 1 + delta, 1)));
}
/** [start, end) of a period as instants. */
export function periodBounds(period: string): { start: Date; end: Date } {
  const [y, m] = period.split('-').map(Number);
  return { start: new Date(Date.UTC(y, m - 1, 1)), end: new Date(Date.UTC(y, m, 1)) };
}

/** The chart of accounts (seeded by the `ledger_balance` migration). */
export const ACCOUNTS = ['cash', 'membership_revenue', 'sales_revenue', 'shipping_revenue', 'inventory', 'cost_of_goods_sold', 'refunds'] as const;
export type AccountCode = (typeof ACCOUNTS)[number];

/**
 * `item.sold` as accounting reads it. The event is owned and published by the inventory domain;
 * until its definition lands in `workflows/inventory/contract.ts` this is the only definition, and
 * the schema must stay identical to the inventory one once it does (then import it from there).
 */
export const itemSoldData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  itemId: z.string(),
  priceCents: z.number().int().nonnegative(),
  costCents: z.number().int().nonnegative(),
});
export type ItemSoldData = z.infer<typeof itemSoldData>;
/** An item of a box was sold to the member (published by inventory; see {@link itemSoldData}). */
export const ItemSold = defineEvent('item.sold', 'inventory', itemSoldData);

export const trialBalanceRowSchema = z.object({ account: z.string(), debitCents: z.number().int(), creditCents: z.number().int() });
export type TrialBalanceRow = z.infer<typeof trialBalanceRowSchema>;

export const revenueSummarySchema = z.object({
  membershipRevenueCents: z.number().int(),
  salesRevenueCents: z.number().int(),
  /** Express shipping fees. */
  shippingRevenueCents: z.number().int(),
  refundsCents: z.number().int(),
  netRevenueCents: z.number().int(),
  costOfGoodsSoldCents: z.number().int(),
  grossMarginCents: z.number().int(),
  entries: z.number().int(),
  customers: z.number().int(),
});
export type RevenueSummary = z.infer<typeof revenueSummarySchema>;

export const periodClosedData = z.object({
  period: periodSchema,
  totalDebitCents: z.number().int(),
  totalCreditCents: z.number().int(),
  summary: revenueSummarySchema,
});
/** The period's books are closed: balanced, summarised and locked against further posting. */
export const PeriodClosed = defineEvent('period.closed', 'accounting', periodClosedData);
export type PeriodClosedData = z.infer<typeof periodClosedData>;

/**
 * Input of a ledger run: the event that started it, the customer (a run started without an event,
 * e.g. by ops' rebook), or the state carried across continue-as-new.
 */
export interface LedgerWorkflowInput {
  event?: EventEnvelope;
  customerId?: string;
  state?: LedgerCarriedState;
  /** Continue as new after this many applied events (default 200). */
  eventsPerRun?: number;
}

/** What a ledger run hands to the next one. */
export interface LedgerCarriedState {
  customerId: string;
  /** Events received but not yet applied (in arrival order), refunds waiting for their capture included. */
  pending: EventEnvelope[];
  /** Ids of the most recent events applied (bounded): redeliveries are dropped before any activity. */
  recentIds: string[];
  /** Charge keys whose capture is posted: a refund of one of them may post. */
  capturedChargeKeys: string[];
  applied: number;
  run: number;
  /** A sweep was asked for and not made yet. */
  sweepRequested?: boolean;
}

export interface LedgerState {
  customerId: string;
  run: number;
  applied: number;
  appliedThisRun: number;
  /** Refunds held until their capture's entry exists, by charge key. */
  heldRefunds: string[];
  queued: number;
  /** Sweeps for unbooked money events this run made (a fresh run makes one first). */
  sweeps: number;
}

/**
 * Asks a running ledger to sweep: look up the customer's money events that have no journal entry
 * and book them (ops' rebook sends it with signal-with-start, so a closed ledger starts instead).
 */
export const sweepLedgerSignal = defineSignal<[{ reason?: string }]>('sweepLedger');

/** The month-end close waits at most this long (default) for money events in flight: 6 hours. */
export const DEFAULT_CLOSE_MAX_WAIT_MS = 6 * 3_600_000;

/** Why a money event of a period has no journal entry when the close checks. */
export type UnbookedReason = 'ledger-closed' | 'in-flight';

/** A money event of the period without its journal entry, as the close reports it. */
export interface UnbookedMoneyEvent {
  eventId: string;
  type: string;
  customerId: string | null;
  /** ledger-closed: its delivery to the ledger was rejected; in-flight: not delivered or not booked yet. */
  reason: UnbookedReason;
}
/** An event of the period some subscriber has no delivery of, as the close reports it at its bound. */
export interface UndeliveredEvent {
  eventId: string;
  type: string;
  missing: string[];
}

export interface MonthlyCloseInput {
  period: string;
  /** First and longest wait between checks for undelivered events. */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /**
   * How long step 1 waits for events still in flight before the close fails with
   * UnbookedMoneyEvents (default {@link DEFAULT_CLOSE_MAX_WAIT_MS}).
   */
  maxWaitMs?: number;
}
export interface MonthlyCloseResult {
  period: string;
  trialBalance: TrialBalanceRow[];
  summary: RevenueSummary;
  waitedChecks: number;
}

/** Input of the Schedule's close: the period, or (unset) the month before the scheduled time. */
export interface MonthlyCloseScheduledInput {
  period?: string;
}
/** The close's result, or `already-closed` when ops closed the period before the Schedule fired. */
export type MonthlyCloseScheduledResult = MonthlyCloseResult | { period: string; outcome: 'already-closed' };

/** One member's ledger: books every money event; runs as long as the member (continue-as-new). */
export const LedgerWorkflow = defineWorkflow<LedgerWorkflowInput, void>('ledgerWorkflow', 'accounting', ACCOUNTING_TASK_QUEUE);
/** Closes one period: waits for in-flight money events, then the trial balance and `period.closed`. */
export const MonthlyCloseWorkflow = defineWorkflow<MonthlyCloseInput, MonthlyCloseResult>('monthlyCloseWorkflow', 'accounting', ACCOUNTING_TASK_QUEUE);
/** The monthly close Schedule's action. */
export const MonthlyCloseScheduledWorkflow = defineWorkflow<MonthlyCloseScheduledInput, MonthlyCloseScheduledResult>(
  'monthlyCloseScheduledWorkflow',
  'accounting',
  ACCOUNTING_TASK_QUEUE,
);

// Activities: what the accounting worker hosts (implemented in activities/accounting/).

export interface PostEventInput {
  event: EventEnvelope;
}
export interface PostEventResult {
  /** false: the event was already posted (redelivery) or posts nothing (a zero-cost sale). */
  posted: boolean;
  entryId: string | null;
  period: string | null;
  customerSeq: number | null;
}
export interface PeriodInput {
  period: string;
}
export interface UndeliveredResult {
  /** Events of the period with at least one subscriber that has no delivery recorded yet. */
  undelivered: number;
  /** Events of the period the ledger books, delivered to it but not posted yet. */
  unposted: number;
  /**
   * Money events of the period without a journal entry (ledger-closed ones first, at most
   * {@link REPORTED_EVENTS}). Absent from checks recorded before it existed: read as none.
   */
  unbooked?: UnbookedMoneyEvent[];
  /** How many money events of the period have no journal entry (may exceed `unbooked.length`). */
  unbookedTotal?: number;
  /** Events with a subscriber missing a delivery (at most {@link REPORTED_EVENTS}), for the close's failure. */
  undeliveredEvents?: UndeliveredEvent[];
}
export interface FindUnbookedEventsInput {
  customerId: string;
}
export interface FindUnbookedEventsResult {
  /** Captures before refunds, then in publish order. */
  events: EventEnvelope[];
  /** More are waiting than one sweep returns: sweep again once these are applied. */
  more: boolean;
}
export interface TrialBalanceResult {
  rows: TrialBalanceRow[];
  totalDebitCents: number;
  totalCreditCents: number;
}

/** The accounting domain's activities: the ledger's postings and the close's checks. */
export interface AccountingActivities {
  /** Posts an event's journal entry once (the entry id derives from the event id). */
  postEvent(input: PostEventInput): Promise<PostEventResult>;
  /** Whether a charge key's capture is already booked. */
  isCapturePosted(input: { chargeKey: string }): Promise<boolean>;
  /** The customer's money events the ledger has not booked yet (a fresh ledger's sweep). */
  findUnbookedEvents(input: FindUnbookedEventsInput): Promise<FindUnbookedEventsResult>;
  /** What of the period is still in flight: undelivered, unposted, unbooked. */
  countUndeliveredEvents(input: PeriodInput): Promise<UndeliveredResult>;
  /** The period's trial balance. */
  trialBalance(input: PeriodInput): Promise<TrialBalanceResult>;
  /** The period's revenue summary. */
  revenueSummary(input: PeriodInput): Promise<RevenueSummary>;
  /** Locks the period: later events post into the next open one. */
  lockPeriod(input: PeriodInput): Promise<{ lockedAt: string }>;
}
