/**
 * Charges, their attempts and refunds (`payment.charges`, `payment.charge_attempts`,
 * `payment.refunds`): what the payment activities record before and after each PSP call, so a
 * charge key is captured at most once whatever retries, crashes or resets happen. The charge row's
 * lock orders a new attempt against the settling of the charge as failed.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { chargeAttempts, charges, paymentMethods, refunds } from '../../db/schema/payment';
import type { ChargeAttemptInput, ChargeAttemptResult } from '../../workflows/payment/contract';

export type ChargeAttemptRow = typeof chargeAttempts.$inferSelect;
export type ChargeRow = typeof charges.$inferSelect;

const attemptOf = (chargeKey: string, attempt: number) => and(eq(chargeAttempts.chargeKey, chargeKey), eq(chargeAttempts.attempt, attempt));

/** Records the charge key (pending) the first time an attempt is made for it. */
export async function ensureCharge(db: Db, input: ChargeAttemptInput): Promise<void> {
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
}

/**
 * Under the charge row's lock: the key's capture if it has one, else the attempt's row (recorded
 * `pending` now, with the member's current card, if it is new), or `closed` when the charge has
 * failed for good. A run that settles the charge as failed either sees the new attempt or is seen.
 */
export async function beginAttempt(
  db: Db,
  input: ChargeAttemptInput,
  idempotencyKey: string,
): Promise<{ captured: ChargeAttemptResult } | { row: ChargeAttemptRow } | { closed: true }> {
  return db.transaction(async (tx) => {
    const [charge] = await tx.select({ status: charges.status }).from(charges).where(eq(charges.chargeKey, input.chargeKey)).for('update');
    // A captured charge key is never charged again (a reset re-running an attempt, a duplicate
    // workflow...). The partial unique index makes a second capture unrecordable too.
    const [captured] = await tx
      .select()
      .from(chargeAttempts)
      .where(and(eq(chargeAttempts.chargeKey, input.chargeKey), eq(chargeAttempts.status, 'captured')));
    if (captured?.pspChargeId) return { captured: { pspChargeId: captured.pspChargeId, capturedAttempt: captured.attempt } };
    const [existing] = await tx.select().from(chargeAttempts).where(attemptOf(input.chargeKey, input.attempt));
    if (existing) return { row: existing };
    if (charge?.status === 'failed') return { closed: true as const };
    // The attempt's card is fixed when the attempt is first made: its retries must send the same body.
    const [method] = await tx.select().from(paymentMethods).where(eq(paymentMethods.customerId, input.customerId));
    const [row] = await tx
      .insert(chargeAttempts)
      .values({
        chargeKey: input.chargeKey,
        attempt: input.attempt,
        idempotencyKey,
        cardToken: method?.cardToken ?? null,
        status: 'pending',
        attemptedAt: new Date(input.attemptedAt),
      })
      .returning();
    return { row: row! };
  });
}

/** Records an attempt's capture and the charge key's, in one transaction. */
export async function recordCapture(db: Db, chargeKey: string, attempt: number, pspChargeId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(chargeAttempts)
      .set({ status: 'captured', pspChargeId, updatedAt: sql`now()` })
      .where(attemptOf(chargeKey, attempt));
    await tx
      .update(charges)
      .set({ status: 'captured', pspChargeId, updatedAt: sql`now()` })
      .where(eq(charges.chargeKey, chargeKey));
  });
}

/** Records how an attempt ended without a capture; only a pending one moves (the first answer stands). */
export async function recordUncaptured(db: Db, chargeKey: string, attempt: number, status: 'declined' | 'refused' | 'voided', code: string): Promise<void> {
  await db
    .update(chargeAttempts)
    .set({ status, declineCode: code, updatedAt: sql`now()` })
    .where(and(attemptOf(chargeKey, attempt), eq(chargeAttempts.status, 'pending')));
}

/**
 * Under the charge row's lock: the key's capture if it has one; else its attempts still pending
 * (in doubt: the caller resolves them with the PSP); else the charge is marked failed for good.
 */
export async function failChargeUnlessOpen(db: Db, chargeKey: string): Promise<{ captured?: ChargeAttemptResult; pending?: ChargeAttemptRow[] }> {
  return db.transaction(async (tx) => {
    await tx.select({ status: charges.status }).from(charges).where(eq(charges.chargeKey, chargeKey)).for('update');
    const attempts = await tx.select().from(chargeAttempts).where(eq(chargeAttempts.chargeKey, chargeKey));
    const captured = attempts.find((a) => a.status === 'captured' && a.pspChargeId);
    if (captured) return { captured: { pspChargeId: captured.pspChargeId!, capturedAttempt: captured.attempt } };
    const pending = attempts.filter((a) => a.status === 'pending');
    if (pending.length > 0) return { pending };
    await tx
      .update(charges)
      .set({ status: 'failed', updatedAt: sql`now()` })
      .where(and(eq(charges.chargeKey, chargeKey), eq(charges.status, 'pending')));
    return {};
  });
}

/** The charge key's row, if it was ever attempted. */
export async function chargeOf(db: Db, chargeKey: string): Promise<ChargeRow | undefined> {
  const [row] = await db.select().from(charges).where(eq(charges.chargeKey, chargeKey));
  return row;
}

/** The charge key's refund, if it was refunded. */
export async function refundOf(db: Db, chargeKey: string): Promise<typeof refunds.$inferSelect | undefined> {
  const [row] = await db.select().from(refunds).where(eq(refunds.chargeKey, chargeKey));
  return row;
}

/** Records a refund the PSP made and marks the charge refunded, in one transaction (the first record stands). */
export async function recordRefund(
  db: Db,
  refund: { chargeKey: string; idempotencyKey: string; amountCents: number; pspRefundId: string; reason: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(refunds).values(refund).onConflictDoNothing();
    await tx
      .update(charges)
      .set({ status: 'refunded', updatedAt: sql`now()` })
      .where(eq(charges.chargeKey, refund.chargeKey));
  });
}

/** A charge key's attempts, in order (ops' view of a charge). */
export async function attemptsOf(db: Db, chargeKey: string): Promise<ChargeAttemptRow[]> {
  return db.select().from(chargeAttempts).where(eq(chargeAttempts.chargeKey, chargeKey)).orderBy(asc(chargeAttempts.attempt));
}
