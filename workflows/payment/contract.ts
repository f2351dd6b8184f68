/** Public contract of the payment domain: charges and refunds at the PSP, one per business charge key. */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { defineEvent, type EventEnvelope } from '../bus/contract';
import { defineWorkflow } from '../workflow-ref';
import type { EventTriggeredInput } from '../bus/contract';
import type { MembershipRenewalDueData, OrderPlacedData, PurchaseRequestedData } from '../orders/contract';

/** Task queue of the payment worker. */
export const PAYMENT_TASK_QUEUE = 'payment';

/** What a charge is for; part of its charge key. */
export const CHARGE_PURPOSES = ['membership', 'purchase', 'shipping'] as const;
export type ChargePurpose = (typeof CHARGE_PURPOSES)[number];

/** Charge key of a membership period: charged at most once per customer and period. */
export const membershipChargeKey = (customerId: string, period: string): string => `membership:${customerId}:${period}`;
/** Charge key of buying one item of a box: charged at most once per order and item. */
export const purchaseChargeKey = (orderId: string, itemId: string): string => `purchase:${orderId}:${itemId}`;

/** Charge key of a box's express shipping fee: charged at most once per order, refunded if the box is cancelled. */
export const shippingChargeKey = (orderId: string): string => `shipping:${orderId}`;

/** Workflow id of a charge. */
export const chargeWorkflowId = (chargeKey: string): string => `charge:${chargeKey}`;
/** Workflow id of the refund of a charge. */
export const refundWorkflowId = (chargeKey: string): string => `refund:${chargeKey}`;

/** Days after a declined charge when it is tried again (dunning); after the last, the charge fails for good. */
export const DUNNING_SCHEDULE_DAYS = [1, 3, 7] as const;

const chargeRef = {
  chargeKey: z.string(),
  customerId: z.string(),
  purpose: z.enum(CHARGE_PURPOSES),
  /** The box, for purchases and shipping fees. */
  orderId: z.string().optional(),
  itemId: z.string().optional(),
  /** The membership period (YYYY-MM), for membership fees. */
  period: z.string().optional(),
};

export const paymentCapturedData = z.object({ ...chargeRef, amountCents: z.number().int().positive(), pspChargeId: z.string(), attempts: z.number().int() });
/** The PSP captured the money. */
export const PaymentCaptured = defineEvent('payment.captured', 'payment', paymentCapturedData);
export type PaymentCapturedData = z.infer<typeof paymentCapturedData>;

export const paymentFailedData = z.object({ ...chargeRef, amountCents: z.number().int().positive(), reason: z.string(), attempts: z.number().int() });
/**
 * The charge failed for good: declined through dunning (`reason` is the last decline code), refused
 * by the PSP (`psp_refused: …`, a request the PSP will never accept: ops must look), or stopped
 * because its box was cancelled first (`order_cancelled`). Every charge ends in this or payment.captured.
 */
export const PaymentFailed = defineEvent('payment.failed', 'payment', paymentFailedData);
export type PaymentFailedData = z.infer<typeof paymentFailedData>;

export const paymentRefundedData = z.object({ ...chargeRef, amountCents: z.number().int().positive(), pspRefundId: z.string() });
/** A captured charge was refunded. */
export const PaymentRefunded = defineEvent('payment.refunded', 'payment', paymentRefundedData);
export type PaymentRefundedData = z.infer<typeof paymentRefundedData>;

export const refundFailedData = z.object({ ...chargeRef, amountCents: z.number().int().positive(), reason: z.string() });
/**
 * The PSP refused a refund for good (id `charge:<chargeKey>:refund-failed`): the money is still
 * captured and nobody will retry by themselves. `reason` is the PSP's answer; ops must act
 * (docs/operations.md). Every refund ends in this or payment.refunded.
 */
export const RefundFailed = defineEvent('refund.failed', 'payment', refundFailedData);
export type RefundFailedData = z.infer<typeof refundFailedData>;

/** The card tokens a member can put on file (the PSP's test cards). */
export const PAYMENT_CARD_TOKENS = ['tok_visa', 'tok_decline', 'tok_insufficient_funds', 'tok_flaky', 'tok_slow'] as const;
export type PaymentCardToken = (typeof PAYMENT_CARD_TOKENS)[number];
/** The card a member gets when signup names none. */
export const DEFAULT_CARD_TOKEN: PaymentCardToken = 'tok_visa';

/**
 * PSP `Idempotency-Key` of one attempt of a charge key. Each dunning attempt needs its own key:
 * a PSP stores the first *final* answer for a key — a decline included — and replays it for
 * every later request with that key, so retrying a decline under the same key could never
 * succeed. Retries of the *same* attempt (activity retries after a 5xx or timeout, worker
 * crashes, workflow resets) reuse the attempt's key, so the PSP captures an attempt at most once;
 * and an attempt is only made while the charge key has no captured attempt (DB guard), so the
 * charge key as a whole is captured at most once.
 */
export const pspChargeIdempotencyKey = (chargeKey: string, attempt: number): string => `${chargeKey}:attempt-${attempt}`;
/** PSP `Idempotency-Key` of the refund of a charge key (a charge is refunded at most once). */
export const pspRefundIdempotencyKey = (chargeKey: string): string => `refund:${chargeKey}`;

/** What chargeWorkflow reports while it runs, and returns. */
export interface ChargeState {
  chargeKey: string;
  /**
   * refunded: a shipping fee captured for a box that was then cancelled (refunded once);
   * cancelled: the box was cancelled before the fee was captured, so charging stopped.
   */
  status: 'charging' | 'dunning' | 'captured' | 'failed' | 'refunded' | 'refund_failed' | 'cancelled';
  attempts: number;
  /** Workflow time of the next dunning attempt, while dunning. */
  nextAttemptAt?: string;
  lastDecline?: string;
  /** Why the charge failed for good, when it did (the `payment.failed` reason). */
  failureReason?: string;
  pspChargeId?: string;
}
export const chargeStateQuery = defineQuery<ChargeState>('chargeState');

/** Input of the ops retry of a charge waiting in dunning. */
export interface RetryChargeInput {
  /** Who asks and why (the admin audit carries the same). */
  reason: string;
}
/**
 * Makes the next attempt of a charge in dunning now, with the card on file at this moment (a new
 * attempt, under its own PSP key), instead of at its scheduled time; answers the state after that
 * attempt. Refused (`ChargeNotRetryable`) unless the charge is waiting for a dunning retry.
 */
export const retryChargeUpdate = defineUpdate<ChargeState, [RetryChargeInput]>('retryCharge');

/** Input of refundWorkflow (`refund:<chargeKey>`): refunds the captured charge, in full unless `amountCents`. */
export interface RefundWorkflowInput {
  chargeKey: string;
  reason: string;
  amountCents?: number;
  /** The event that asked for the refund, if any (becomes the refund event's cause). */
  event?: EventEnvelope;
}
export interface RefundWorkflowResult {
  chargeKey: string;
  /** refused: the PSP refused the refund for good; refund.failed was published. */
  outcome: 'refunded' | 'nothing-to-refund' | 'refused';
  reason?: string;
  pspRefundId?: string;
  amountCents?: number;
}

/** The events that ask payment for money: a purchase, a period's fee, an express box's fee. */
export type ChargeRequest = PurchaseRequestedData | MembershipRenewalDueData | OrderPlacedData;

/** One charge at the PSP, to its outcome, started by the event that asks for the money. */
export const ChargeWorkflow = defineWorkflow<EventTriggeredInput<ChargeRequest>, ChargeState>('chargeWorkflow', 'payment', PAYMENT_TASK_QUEUE);
/** One refund at the PSP, a child of the charge it pays back. */
export const RefundWorkflow = defineWorkflow<RefundWorkflowInput, RefundWorkflowResult>('refundWorkflow', 'payment', PAYMENT_TASK_QUEUE);

// Activities: what the payment worker hosts (implemented in activities/payment/).

/** Details of a {@link FailureType.CardDeclined} failure. */
export interface CardDeclinedDetails {
  code: string;
}
export interface ChargeAttemptInput {
  chargeKey: string;
  /** 1 for the first try, then one more per dunning retry. */
  attempt: number;
  customerId: string;
  purpose: ChargePurpose;
  amountCents: number;
  orderId?: string;
  itemId?: string;
  period?: string;
  description: string;
  /** Workflow time of the attempt (ISO): the dunning schedule is in workflow time. */
  attemptedAt: string;
}
export interface ChargeAttemptResult {
  pspChargeId: string;
  /** The attempt that captured the charge key (an earlier one if a reset re-ran a later attempt). */
  capturedAttempt: number;
}
export interface MarkChargeFailedResult {
  /** Set when the key was captured after all: the charge did not fail. */
  captured?: ChargeAttemptResult;
}
export interface RefundChargeInput {
  chargeKey: string;
  reason: string;
  amountCents?: number;
}
export interface RefundChargeResult {
  /** refused: the PSP refused the refund for good (`reason` says why); nothing was refunded. */
  outcome: 'refunded' | 'nothing-to-refund' | 'refused';
  reason?: string;
  pspRefundId?: string;
  amountCents?: number;
  customerId?: string;
  purpose?: ChargePurpose;
  orderId?: string;
  itemId?: string;
  period?: string;
}

/** The payment domain's activities: one PSP call each, a charge key captured at most once. */
export interface PaymentActivities {
  /** One attempt at the PSP; a key already captured answers its capture instead of charging again. */
  chargeAttempt(input: ChargeAttemptInput): Promise<ChargeAttemptResult>;
  /** Marks the charge failed, unless it was captured after all. */
  markChargeFailed(input: { chargeKey: string }): Promise<MarkChargeFailedResult>;
  /** Refunds a captured charge once, or says there is nothing to refund or that the PSP refused. */
  refundCharge(input: RefundChargeInput): Promise<RefundChargeResult>;
}
