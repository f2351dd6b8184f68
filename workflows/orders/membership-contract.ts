/**
 * Public contract of membership (orders domain): the monthly fee of a member. Re-exported from
 * `./contract`, so the event catalogue finds `membership.renewal_due` there.
 */
import type { Duration } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { defineEvent } from '../bus/contract';

/** Workflow id of a member's membership (one per customer, continued-as-new each period). */
export const membershipWorkflowId = (customerId: string): string => `membership:${customerId}`;

/** The monthly membership fee. */
export const MEMBERSHIP_FEE_CENTS = 4900;
/**
 * Length of a membership period: `'calendar-month'` (the default) renews on the same day of the
 * next calendar month; tests pass a Duration (e.g. `'30 days'`, `'2 seconds'`) in the input.
 * Period labels are `YYYY-MM` and advance by one month per period either way.
 */
export const MEMBERSHIP_PERIOD = 'calendar-month' as const;
/**
 * How long a period waits for its fee's outcome before the wait is reported stalled: dunning's
 * last retry is 7 days after the first decline, so past 10 days something is wrong in payment.
 */
export const PAYMENT_OUTCOME_BOUND = '10 days';

/** Event ids the membership carries across continue-as-new for dedupe (newest kept). */
export const MEMBERSHIP_CARRIED_EVENT_IDS = 50;

export const MEMBERSHIP_STATUSES = ['active', 'suspended'] as const;
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

const periodLabel = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a period is YYYY-MM');

export const membershipRenewalDueData = z.object({
  customerId: z.string(),
  period: periodLabel,
  amountCents: z.number().int().positive(),
});
/** A membership period starts and its fee is due (id `membership:<customerId>:<period>:renewal-due`). */
export const MembershipRenewalDue = defineEvent('membership.renewal_due', 'orders', membershipRenewalDueData);
export type MembershipRenewalDueData = z.infer<typeof membershipRenewalDueData>;
export const membershipRenewalDueEventId = (customerId: string, period: string): string => `membership:${customerId}:${period}:renewal-due`;

/** Input of membershipWorkflow; everything but `customerId` is carried across continue-as-new. */
export interface MembershipWorkflowInput {
  customerId: string;
  amountCents?: number;
  /** Period length; default {@link MEMBERSHIP_PERIOD}. */
  periodLength?: Duration | typeof MEMBERSHIP_PERIOD;
  /** The period this run bills (YYYY-MM); default: the month the workflow starts in. */
  period?: string;
  /** When this period started (ISO); default: the run's start time. */
  periodStartedAt?: string;
  /** The last period whose payment outcome was processed. */
  lastProcessedPeriod?: string;
  /** Ids of events already processed (trimmed to {@link MEMBERSHIP_CARRIED_EVENT_IDS}). */
  processedEventIds?: string[];
  /** How many periods ran before this one. */
  periodsCompleted?: number;
  /** When a period's fee outcome is overdue; default {@link PAYMENT_OUTCOME_BOUND} (tests pass less). */
  paymentOutcomeBound?: Duration;
}

export interface MembershipState {
  customerId: string;
  status: MembershipStatus;
  period: string;
  periodStartedAt: string;
  /** Waiting for the period's payment, or for the next period to start. */
  phase: 'awaiting-payment' | 'paid' | 'suspended';
  lastProcessedPeriod?: string;
  periodsCompleted: number;
  reason?: string;
  /** Set while the period's payment outcome is overdue (see PAYMENT_OUTCOME_BOUND). */
  stalled?: string;
}
/** Current membership state, answered by the running workflow. */
export const membershipStatusQuery = defineQuery<MembershipState>('membershipStatus');

export interface MembershipWorkflowResult {
  status: 'suspended';
  period: string;
  reason: string;
}

/** Adds `months` to a `YYYY-MM` label. */
export function addMonths(period: string, months: number): string {
  const [y, m] = period.split('-').map(Number);
  const index = y * 12 + (m - 1) + months;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The `YYYY-MM` label of a date (UTC). */
export const periodOf = (date: Date): string => date.toISOString().slice(0, 7);
