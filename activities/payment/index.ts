/**
 * Payment activities: one PSP attempt per call, recorded in `payment.charges` /
 * `payment.charge_attempts` (store/payment/charges.ts), guarded so that a charge key is captured
 * at most once whatever retries, crashes or resets happen.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import type { Db } from '../../db/client';
import {
  beginAttempt,
  chargeOf,
  ensureCharge,
  failChargeUnlessOpen,
  recordCapture,
  recordRefund,
  recordUncaptured,
  refundOf,
} from '../../store/payment/charges';
import { FailureType } from '../../workflows/failures';
import { pspChargeIdempotencyKey, pspRefundIdempotencyKey } from '../../workflows/payment/contract';
import type { PspClient } from './psp-client';
import type {
  ChargeAttemptInput,
  ChargeAttemptResult,
  MarkChargeFailedResult,
  RefundChargeInput,
  RefundChargeResult,
  CardDeclinedDetails,
  PaymentActivities,
} from '../../workflows/payment/contract';

function declined(code: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.CardDeclined,
    message: `card declined: ${code}`,
    nonRetryable: true,
    details: [{ code } satisfies CardDeclinedDetails],
  });
}

/** Creates the payment activities over a database and a PSP client. */
export function createPaymentActivities({ db, psp }: { db: Db; psp: PspClient }): PaymentActivities {
  return {
    /**
     * Makes one attempt of a charge key at the PSP. Returns the capture, or throws a non-retryable
     * `CardDeclined` failure; PSP outages, timeouts and lost answers are plain errors (retried with
     * the same idempotency key, so the PSP captures an attempt at most once). The attempt is
     * recorded `pending` before the PSP is called, under the charge row's lock: a run that settles
     * the charge as failed either sees it (and resolves it with the PSP) or it sees the charge
     * closed and never calls the PSP.
     */
    async chargeAttempt(input: ChargeAttemptInput): Promise<ChargeAttemptResult> {
      const idempotencyKey = pspChargeIdempotencyKey(input.chargeKey, input.attempt);
      await ensureCharge(db, input);
      const decided = await beginAttempt(db, input, idempotencyKey);
      if ('captured' in decided) {
        log.info('charge key already captured; not charging again', {
          chargeKey: input.chargeKey,
          attempt: input.attempt,
          capturedAttempt: decided.captured.capturedAttempt,
        });
        return decided.captured;
      }
      if ('closed' in decided) {
        throw ApplicationFailure.create({
          type: FailureType.ChargeClosed,
          message: `charge ${input.chargeKey} has failed for good: attempt ${input.attempt} is not made`,
          nonRetryable: true,
        });
      }
      const row = decided.row;
      // A recorded answer is final: the PSP would replay it for the same key anyway.
      if (row.status === 'declined') throw declined(row.declineCode ?? 'card_declined');
      if (row.status === 'refused')
        throw ApplicationFailure.create({
          type: FailureType.PaymentRejected,
          message: `PSP refused attempt ${input.attempt} of ${input.chargeKey}: ${row.declineCode ?? ''}`,
          nonRetryable: true,
        });
      if (row.status === 'voided')
        throw ApplicationFailure.create({
          type: FailureType.ChargeVoided,
          message: `attempt ${input.attempt} of ${input.chargeKey} was voided at the PSP`,
          nonRetryable: true,
        });
      if (!row.cardToken) {
        await recordUncaptured(db, input.chargeKey, input.attempt, 'declined', 'no_payment_method');
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
          await recordUncaptured(db, input.chargeKey, input.attempt, 'declined', code);
          log.info('charge declined', { chargeKey: input.chargeKey, attempt: input.attempt, code });
        } else if (err instanceof ApplicationFailure && err.type === FailureType.PaymentRejected) {
          await recordUncaptured(db, input.chargeKey, input.attempt, 'refused', err.message);
        } else if (err instanceof ApplicationFailure && err.type === FailureType.ChargeVoided) {
          await recordUncaptured(db, input.chargeKey, input.attempt, 'voided', 'voided');
        }
        // Anything else (timeout, reset connection, 5xx) leaves the attempt pending: in doubt until
        // a retry under the same key, or a resolve by key, settles it.
        throw err;
      }
      await recordCapture(db, input.chargeKey, input.attempt, pspChargeId);
      log.info('charge captured', { chargeKey: input.chargeKey, attempt: input.attempt, pspChargeId });
      return { pspChargeId, capturedAttempt: input.attempt };
    },

    /**
     * Marks a charge key as failed for good (after the last dunning attempt, a refusal, or a box
     * cancelled before its fee was charged), unless it was captured: then it returns the capture
     * instead. An attempt still pending is in doubt — a lost answer, or an attempt of an earlier
     * run (before a reset) still executing at the PSP — so it is resolved with the PSP by key
     * first (retrying while the PSP still processes it): a capture found that way is followed (and
     * refunded for a cancelled box), never left behind as money kept for "nothing charged".
     */
    async markChargeFailed(input: { chargeKey: string }): Promise<MarkChargeFailedResult> {
      for (;;) {
        const found = await failChargeUnlessOpen(db, input.chargeKey);
        if (found.captured) return { captured: found.captured };
        if (!found.pending) return {};
        for (const attempt of found.pending) {
          const resolved = await psp.resolveCharge(attempt.idempotencyKey);
          log.info('charge attempt in doubt resolved with the PSP', { chargeKey: input.chargeKey, attempt: attempt.attempt, outcome: resolved.outcome });
          if (resolved.outcome === 'captured') await recordCapture(db, input.chargeKey, attempt.attempt, resolved.chargeId);
          else if (resolved.outcome === 'declined') await recordUncaptured(db, input.chargeKey, attempt.attempt, 'declined', resolved.code);
          else if (resolved.outcome === 'refused') await recordUncaptured(db, input.chargeKey, attempt.attempt, 'refused', resolved.reason);
          else await recordUncaptured(db, input.chargeKey, attempt.attempt, 'voided', 'voided');
        }
      }
    },

    /**
     * Refunds a captured charge key once; a second call returns the first refund. A PSP refusal
     * is an answer (`refused`, with the reason), so the refund workflow can announce it.
     */
    async refundCharge(input: RefundChargeInput): Promise<RefundChargeResult> {
      const charge = await chargeOf(db, input.chargeKey);
      if (!charge || !charge.pspChargeId || (charge.status !== 'captured' && charge.status !== 'refunded')) return { outcome: 'nothing-to-refund' };
      const facts = {
        customerId: charge.customerId,
        purpose: charge.purpose,
        orderId: charge.orderId ?? undefined,
        itemId: charge.itemId ?? undefined,
        period: charge.period ?? undefined,
      };
      const existing = await refundOf(db, input.chargeKey);
      if (existing) return { outcome: 'refunded', pspRefundId: existing.pspRefundId, amountCents: existing.amountCents, ...facts };

      const amountCents = input.amountCents ?? charge.amountCents;
      const idempotencyKey = pspRefundIdempotencyKey(input.chargeKey);
      let refundId: string;
      try {
        ({ refundId } = await psp.refund(idempotencyKey, { chargeId: charge.pspChargeId, amountCents }));
      } catch (err) {
        if (!(err instanceof ApplicationFailure && err.type === FailureType.PaymentRejected)) throw err;
        log.warn('refund refused by the PSP', { chargeKey: input.chargeKey, error: err.message });
        return { outcome: 'refused', reason: err.message, amountCents, ...facts };
      }
      await recordRefund(db, { chargeKey: input.chargeKey, idempotencyKey, amountCents, pspRefundId: refundId, reason: input.reason });
      return { outcome: 'refunded', pspRefundId: refundId, amountCents, ...facts };
    },
  };
}
