/** Public contract of the payment domain: charges and refunds at the PSP, one per business charge key. */
import { z } from 'zod';
import { defineEvent } from '../bus/contract';

/** Task queue of the payment worker. */
export const PAYMENT_TASK_QUEUE = 'payment';

/** What a charge is for; part of its charge key. */
export const CHARGE_PURPOSES = ['membership', 'purchase'] as const;
export type ChargePurpose = (typeof CHARGE_PURPOSES)[number];

/** Charge key of a membership period: charged at most once per customer and period. */
export const membershipChargeKey = (customerId: string, period: string): string => `membership:${customerId}:${period}`;
/** Charge key of buying one item of a box: charged at most once per order and item. */
export const purchaseChargeKey = (orderId: string, itemId: string): string => `purchase:${orderId}:${itemId}`;

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
  /** The box, for purchases. */
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
/** The charge failed for good, after dunning. */
export const PaymentFailed = defineEvent('payment.failed', 'payment', paymentFailedData);
export type PaymentFailedData = z.infer<typeof paymentFailedData>;

export const paymentRefundedData = z.object({ ...chargeRef, amountCents: z.number().int().positive(), pspRefundId: z.string() });
/** A captured charge was refunded. */
export const PaymentRefunded = defineEvent('payment.refunded', 'payment', paymentRefundedData);
export type PaymentRefundedData = z.infer<typeof paymentRefundedData>;
