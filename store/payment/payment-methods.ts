/** The member's card on file (`payment.payment_methods`): written at signup and by PUT /v1/me/payment-method, read by the charge activities and GET. */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { paymentMethods } from '../../db/schema/payment';

/** Saves the member's card; later dunning attempts charge the new card. */
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
