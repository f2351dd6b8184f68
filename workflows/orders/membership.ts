/**
 * membershipWorkflow (`membership:<customerId>`): bills a member's fee once per period. Each run
 * is one period: it publishes `membership.renewal_due`, waits for the payment outcome of that
 * period's charge key, then sleeps until the next period and continues as new, so history stays
 * small however long the membership lasts. After the last dunning attempt (`payment.failed`) the
 * member is suspended and the workflow ends.
 */
import { allHandlersFinished, condition, continueAsNew, log, proxyLocalActivities, setHandler, sleep } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { MembershipActivities } from './contract';
import { isEvent, type EventEnvelope } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { waitVisibly } from '../waiting';
import { PaymentCaptured, PaymentFailed, membershipChargeKey, type PaymentCapturedData, type PaymentFailedData } from '../payment/contract';
import {
  MEMBERSHIP_CARRIED_EVENT_IDS,
  MEMBERSHIP_FEE_CENTS,
  MEMBERSHIP_PERIOD,
  MembershipRenewalDue,
  PAYMENT_OUTCOME_BOUND,
  addMonths,
  membershipRenewalDueEventId,
  membershipStatusQuery,
  periodOf,
  type MembershipState,
  type MembershipWorkflowInput,
  type MembershipWorkflowResult,
} from './membership-contract';

// A local activity: a write to this domain's own tables, run by this worker inside the workflow
// task (no activity task, no extra workflow task), idempotent, so its re-run after a crash is harmless.
const { recordMembership } = proxyLocalActivities<MembershipActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Start of the period after the one that started at `start`. */
function nextPeriodStart(start: Date, length: MembershipWorkflowInput['periodLength']): Date {
  if (length === undefined || length === MEMBERSHIP_PERIOD) {
    // Same day and time next calendar month, clamped to the month's last day (31 Jan → 28/29 Feb).
    const next = new Date(start.getTime());
    const day = next.getUTCDate();
    next.setUTCDate(1);
    next.setUTCMonth(next.getUTCMonth() + 1);
    const lastDay = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 0)).getUTCDate();
    next.setUTCDate(Math.min(day, lastDay));
    return next;
  }
  return new Date(start.getTime() + msToNumber(length));
}

export async function membershipWorkflow(input: MembershipWorkflowInput): Promise<MembershipWorkflowResult> {
  const { customerId } = input;
  const now = new Date();
  const period = input.period ?? periodOf(now);
  const periodStartedAt = input.periodStartedAt ? new Date(input.periodStartedAt) : now;
  const amountCents = input.amountCents ?? MEMBERSHIP_FEE_CENTS;
  const chargeKey = membershipChargeKey(customerId, period);
  // Dedupe across continue-as-new: the ids the previous runs processed.
  const processed = new Set(input.processedEventIds ?? []);
  const inbox = new Inbox();
  const state: MembershipState = {
    customerId,
    status: 'active',
    period,
    periodStartedAt: periodStartedAt.toISOString(),
    phase: 'awaiting-payment',
    lastProcessedPeriod: input.lastProcessedPeriod,
    periodsCompleted: input.periodsCompleted ?? 0,
  };
  setHandler(membershipStatusQuery, () => state);

  if (input.lastProcessedPeriod !== period) {
    await recordMembership.executeWithOptions({ summary: `membership of ${customerId} active for ${period}` }, [{ customerId, status: 'active', period }]);
    await publish(MembershipRenewalDue, {
      id: membershipRenewalDueEventId(customerId, period),
      data: { customerId, period, amountCents },
      correlationId: customerId,
    });

    // Purchases of this member, and late duplicates of earlier periods, are not this period's fee.
    const outcomes = [PaymentCaptured, PaymentFailed];
    const ours = (e: EventEnvelope): boolean => !processed.has(e.id) && (e.data as { chargeKey?: string }).chargeKey === chargeKey;
    // Payment always announces an outcome; past dunning's span it is overdue, and says so.
    await waitVisibly(() => inbox.has(outcomes, ours), {
      what: `the payment outcome of ${chargeKey}`,
      bound: input.paymentOutcomeBound ?? PAYMENT_OUTCOME_BOUND,
      onStall: (note) => (state.stalled = note),
    });
    const outcome = inbox.take(outcomes, ours) as EventEnvelope<PaymentCapturedData | PaymentFailedData>;
    processed.add(outcome.id);
    state.stalled = undefined;
    state.lastProcessedPeriod = period;

    if (isEvent(outcome, PaymentFailed)) {
      const reason = `the ${period} fee could not be charged after ${outcome.data.attempts} attempts: ${outcome.data.reason}`;
      Object.assign(state, { status: 'suspended', phase: 'suspended', reason });
      await recordMembership.executeWithOptions({ summary: `membership of ${customerId} suspended in ${period}` }, [
        { customerId, status: 'suspended', period },
      ]);
      log.warn('membership suspended', { customerId, period, eventId: outcome.id });
      return { status: 'suspended', period, reason };
    }
    state.phase = 'paid';
  }

  const next = nextPeriodStart(periodStartedAt, input.periodLength);
  await sleep(Math.max(0, next.getTime() - Date.now()));
  // The hand-over: no handler mid-flight; what this run received is carried as seen (bounded), so
  // a late duplicate of this period's outcome is not taken for the next period's.
  await condition(allHandlersFinished);
  const carried = [...new Set([...processed, ...inbox.receivedIds])].slice(-MEMBERSHIP_CARRIED_EVENT_IDS);
  return continueAsNew<typeof membershipWorkflow>({
    customerId,
    amountCents: input.amountCents,
    periodLength: input.periodLength,
    period: addMonths(period, 1),
    periodStartedAt: next.toISOString(),
    lastProcessedPeriod: state.lastProcessedPeriod,
    processedEventIds: carried,
    periodsCompleted: state.periodsCompleted + 1,
    paymentOutcomeBound: input.paymentOutcomeBound,
  });
}
