/**
 * Payment activities: one PSP attempt per call, recorded in `payment.charges` /
 * `payment.charge_attempts`, guarded so that a charge key is captured at most once whatever
 * retries, crashes or resets happen.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { chargeAttempts, charges, paymentMethods, refunds } from '../../db/schema/payment';
import { FailureType } from '../../workflows/failures';
import { pspChargeIdempotencyKey, pspRefundIdempotencyKey, type ChargePurpose } from '../../workflows/payment/contract';
import type { CardDeclinedDetails, PspClient } from './psp-client';

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
  outcome: 'refunded' | 'nothing-to-refund';
  pspRefundId?: string;
  amountCents?: number;
  customerId?: string;
  purpose?: ChargePurpose;
  orderId?: string;
  itemId?: string;
  period?: string;
}

function declined(code: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.CardDeclined,
    message: `card declined: ${code}`,
    nonRetryable: true,
    details: [{ code } satisfies CardDeclinedDetails],
  });
}

/** Creates the payment activities over a database and a PSP client. */
export function createPaymentActivities({ db, psp }: { db: Db; psp: PspClient }) {
  return {
    /**
     * Makes one attempt of a charge key at the PSP. Returns the capture, or throws a non-retryable
     * `CardDeclined` failure; PSP outages and timeouts are plain errors (retried with the same
     * idempotency key, so the PSP captures an attempt at most once).
     */
    async chargeAttempt(input: ChargeAttemptInput): Promise<ChargeAttemptResult> {
      const idempotencyKey = pspChargeIdempotencyKey(input.chargeKey, input.attempt);
      await db
        .insert(charges)
        .values({
          chargeKey: input.chargeKey,
          customerId: input.customerId,
          purpose: input.purpose,
          amountCents: input.amountCents,
          status: 'pending',
          orderId: input.orderId ?? null,
          itemId: input.itemId ?? null,
          period: input.period ?? null,
        })
        .onConflictDoNothing({ target: charges.chargeKey });

      // Guard: a captured charge key is never charged again (a reset re-running an attempt, a
      // duplicate workflow...). The partial unique index makes a second capture unrecordable too.
      const [captured] = await db
        .select()
        .from(chargeAttempts)
        .where(and(eq(chargeAttempts.chargeKey, input.chargeKey), eq(chargeAttempts.status, 'captured')));
      if (captured?.pspChargeId) {
        log.info('charge key already captured; not charging again', { chargeKey: input.chargeKey, attempt: input.attempt, capturedAttempt: captured.attempt });
        return { pspChargeId: captured.pspChargeId, capturedAttempt: captured.attempt };
      }

      // The attempt's card is fixed when the attempt is first made: its retries must send the same body.
      const [method] = await db.select().from(paymentMethods).where(eq(paymentMethods.customerId, input.customerId));
      await db
        .insert(chargeAttempts)
        .values({
          chargeKey: input.chargeKey,
          attempt: input.attempt,
          idempotencyKey,
          cardToken: method?.cardToken ?? null,
          status: 'pending',
          attemptedAt: new Date(input.attemptedAt),
        })
        .onConflictDoNothing();
      const [row] = await db
        .select()
        .from(chargeAttempts)
        .where(and(eq(chargeAttempts.chargeKey, input.chargeKey), eq(chargeAttempts.attempt, input.attempt)));
      if (!row) throw new Error(`attempt ${input.attempt} of ${input.chargeKey} was not recorded`);
      // The PSP would replay this decline for the same key anyway.
      if (row.status === 'declined') throw declined(row.declineCode ?? 'card_declined');
      if (!row.cardToken) {
        await db
          .update(chargeAttempts)
          .set({ status: 'declined', declineCode: 'no_payment_method', updatedAt: sql`now()` })
          .where(and(eq(chargeAttempts.chargeKey, input.chargeKey), eq(chargeAttempts.attempt, input.attempt)));
        throw declined('no_payment_method');
      }

      let pspChargeId: string;
      try {
        ({ chargeId: pspChargeId } = await psp.charge(idempotencyKey, {
          amountCents: input.amountCents,
          currency: 'EUR',
          cardToken: row.cardToken,
          description: input.description,
          metadata: { chargeKey: input.chargeKey, attempt: String(input.attempt), customerId: input.customerId },
        }));
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === FailureType.CardDeclined) {
          const code = (err.details?.[0] as CardDeclinedDetails | undefined)?.code ?? 'card_declined';
          await db
            .update(chargeAttempts)
            .set({ status: 'declined', declineCode: code, updatedAt: sql`now()` })
            .where(and(eq(chargeAttempts.chargeKey, input.chargeKey), eq(chargeAttempts.attempt, input.attempt)));
          log.info('charge declined', { chargeKey: input.chargeKey, attempt: input.attempt, code });
        }
        throw err;
      }
      await db.transaction(async (tx) => {
        await tx
          .update(chargeAttempts)
          .set({ status: 'captured', pspChargeId, updatedAt: sql`now()` })
          .where(and(eq(chargeAttempts.chargeKey, input.chargeKey), eq(chargeAttempts.attempt, input.attempt)));
        await tx.update(charges).set({ status: 'captured', pspChargeId, updatedAt: sql`now()` }).where(eq(charges.chargeKey, input.chargeKey));
      });
      log.info('charge captured', { chargeKey: input.chargeKey, attempt: input.attempt, pspChargeId });
      return { pspChargeId, capturedAttempt: input.attempt };
    },

    /**
     * Marks a charge key as failed for good (after the last dunning attempt, or a box cancelled
     * before its fee was charged), unless it was captured: then it returns the capture instead.
     * A reset's re-run hears the reapplied `shipment.cancelled` before it charges; the capture of
     * the first run must still be followed (and refunded), not announced as "nothing charged".
     */
    async markChargeFailed(input: { chargeKey: string }): Promise<MarkChargeFailedResult> {
      return db.transaction(async (tx) => {
        const [captured] = await tx
          .select()
          .from(chargeAttempts)
          .where(and(eq(chargeAttempts.chargeKey, input.chargeKey), eq(chargeAttempts.status, 'captured')));
        if (captured?.pspChargeId) return { captured: { pspChargeId: captured.pspChargeId, capturedAttempt: captured.attempt } };
        await tx
          .update(charges)
          .set({ status: 'failed', updatedAt: sql`now()` })
          .where(and(eq(charges.chargeKey, input.chargeKey), eq(charges.status, 'pending')));
        return {};
      });
    },

    /** Refunds a captured charge key once; a second call returns the first refund. */
    async refundCharge(input: RefundChargeInput): Promise<RefundChargeResult> {
      const [charge] = await db.select().from(charges).where(eq(charges.chargeKey, input.chargeKey));
      if (!charge || !charge.pspChargeId || (charge.status !== 'captured' && charge.status !== 'refunded')) return { outcome: 'nothing-to-refund' };
      const facts = {
        customerId: charge.customerId,
        purpose: charge.purpose,
        orderId: charge.orderId ?? undefined,
        itemId: charge.itemId ?? undefined,
        period: charge.period ?? undefined,
      };
      const [existing] = await db.select().from(refunds).where(eq(refunds.chargeKey, input.chargeKey));
      if (existing) return { outcome: 'refunded', pspRefundId: existing.pspRefundId, amountCents: existing.amountCents, ...facts };

      const amountCents = input.amountCents ?? charge.amountCents;
      const idempotencyKey = pspRefundIdempotencyKey(input.chargeKey);
      const { refundId } = await psp.refund(idempotencyKey, { chargeId: charge.pspChargeId, amountCents });
      await db.transaction(async (tx) => {
        await tx.insert(refunds).values({ chargeKey: input.chargeKey, idempotencyKey, amountCents, pspRefundId: refundId, reason: input.reason }).onConflictDoNothing();
        await tx.update(charges).set({ status: 'refunded', updatedAt: sql`now()` }).where(eq(charges.chargeKey, input.chargeKey));
      });
      return { outcome: 'refunded', pspRefundId: refundId, amountCents, ...facts };
    },
  };
}
export type PaymentActivities = ReturnType<typeof createPaymentActivities>;

/**
 * The payment domain's exported write function for the member's card on file (the API's signup
 * and `PUT /v1/me/payment-method` use it). Later dunning attempts charge the new card.
 */
export async function savePaymentMethod(db: Db, customerId: string, cardToken: string): Promise<void> {
  await db
    .insert(paymentMethods)
    .values({ customerId, cardToken })
    .onConflictDoUpdate({ target: paymentMethods.customerId, set: { cardToken, updatedAt: sql`now()` } });
}

/** The member's card on file, if any. */
export async function getPaymentMethod(db: Db, customerId: string): Promise<{ cardToken: string; updatedAt: Date } | undefined> {
  const [row] = await db.select().from(paymentMethods).where(eq(paymentMethods.customerId, customerId));
  return row ? { cardToken: row.cardToken, updatedAt: row.updatedAt } : undefined;
}
