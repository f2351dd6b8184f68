/** Warehouse integration's instructions (`warehouse_integration.instructions`), as other parts read them. */
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { instructions } from '../../db/schema/warehouse-integration';

/** Whether the order's box was cancelled for good at the warehouse (read by the WMS webhook). */
export async function isShipmentCancelled(db: Db, orderId: string): Promise<boolean> {
  const [row] = await db.select({ status: instructions.status }).from(instructions).where(eq(instructions.orderId, orderId));
  return row?.status === 'cancelled';
}
