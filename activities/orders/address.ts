/** The orders domain's write function for a member's shipping address on one order. */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { orders } from '../../db/schema/orders';
import { addressSchema, type Address } from '../../workflows/orders/contract';

/**
 * Corrects the shipping address of an order (ops, after the WMS rejected it). Warehouse
 * integration reads the address fresh on every attempt, so resetting the failed instruction
 * workflow afterwards ships to the corrected address. Returns false for an unknown order.
 */
export async function correctShippingAddress(db: Db, orderId: string, address: Address): Promise<boolean> {
  const valid = addressSchema.parse(address);
  const rows = await db
    .update(orders)
    .set({ address: valid, updatedAt: sql`now()` })
    .where(eq(orders.id, orderId))
    .returning({ id: orders.id });
  return rows.length > 0;
}
