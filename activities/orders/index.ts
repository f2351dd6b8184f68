/** Orders activities: the read model that GET /v1/orders serves. */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { orders } from '../../db/schema/orders';
import type { Address } from '../../workflows/orders/contract';
import type { RecordOrderStatusInput, RecordOrderStatusResult, OrderActivities } from '../../workflows/orders/contract';

/** Creates the orders activities over a database. */
export function createOrderActivities({ db }: { db: Db }): OrderActivities {
  return {
    /** Upserts the read model row; replaying the same transition writes the same row (idempotent). */
    async recordOrderStatus(input: RecordOrderStatusInput): Promise<RecordOrderStatusResult> {
      await upsertOrder(db, input);
      return { status: input.status };
    },
  };
}

/** Writes an order's read-model row; also used by the API right after it accepts an order. */
export async function upsertOrder(db: Db, input: RecordOrderStatusInput): Promise<void> {
  const { order } = input;
  await db
    .insert(orders)
    .values({
      id: order.orderId,
      customerId: order.customerId,
      status: input.status,
      statusReason: input.statusReason ?? null,
      size: order.size,
      categories: order.categories,
      itemCount: order.itemCount,
      address: order.address,
      itemIds: input.itemIds ?? [],
      trackingNumber: input.trackingNumber ?? null,
      purchasedItemIds: input.purchasedItemIds ?? [],
    })
    .onConflictDoUpdate({
      target: orders.id,
      set: {
        status: input.status,
        statusReason: input.statusReason ?? null,
        ...(input.itemIds ? { itemIds: input.itemIds } : {}),
        ...(input.trackingNumber ? { trackingNumber: input.trackingNumber } : {}),
        ...(input.purchasedItemIds ? { purchasedItemIds: input.purchasedItemIds } : {}),
        updatedAt: sql`now()`,
      },
    });
}

/**
 * The orders domain's exported read function for the current shipping address: other domains
 * read it here instead of touching the orders table, so ops can correct an address and reset.
 */
export async function getShippingAddress(db: Db, orderId: string): Promise<Address | undefined> {
  const [row] = await db.select({ address: orders.address }).from(orders).where(eq(orders.id, orderId));
  return row?.address as Address | undefined;
}
