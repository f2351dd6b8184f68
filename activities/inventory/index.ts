/** Inventory activities: atomic reservations over the items table. */
import type { Database } from '../../db/client';

export interface ReserveItemsInput {
  orderId: string;
  itemIds: string[];
}
export type ReserveItemsResult = { reserved: true; itemIds: string[] } | { reserved: false; unavailableItemIds: string[] };

export interface ReleaseItemsInput {
  orderId: string;
}
export interface ReleaseItemsResult {
  releasedItemIds: string[];
}
export interface MarkItemsShippedInput {
  orderId: string;
}
export interface MarkItemsShippedResult {
  shippedItemIds: string[];
}

/** Creates the inventory activities over a database connection. */
export function createInventoryActivities({ sql }: Pick<Database, 'sql'>) {
  return {
    /**
     * Reserves all items or none. Row locks taken by the UPDATE serialize racing orders: the
     * loser re-evaluates `state = 'available'` after the winner commits and sees the item gone.
     * Items this order already holds count as reserved, so a retried activity is a no-op.
     */
    async reserveItems(input: ReserveItemsInput): Promise<ReserveItemsResult> {
      const ids = [...new Set(input.itemIds)];
      return sql.begin(async (tx) => {
        const rows = await tx<{ id: string }[]>`
          update inventory.items
             set state = 'reserved', order_id = ${input.orderId}, updated_at = now()
           where id = any(${ids})
             and (state = 'available' or (state = 'reserved' and order_id = ${input.orderId}))
          returning id`;
        if (rows.length === ids.length) return { reserved: true as const, itemIds: ids };
        const got = new Set(rows.map((r) => r.id));
        // Throwing rolls the transaction back, so a partial reservation never becomes visible.
        throw new PartialReservation(ids.filter((id) => !got.has(id)));
      }).catch((err: unknown) => {
        if (err instanceof PartialReservation) return { reserved: false as const, unavailableItemIds: err.unavailable };
        throw err;
      }) as Promise<ReserveItemsResult>;
    },

    /** Makes every item still reserved by the order available again (idempotent). */
    async releaseItems(input: ReleaseItemsInput): Promise<ReleaseItemsResult> {
      const rows = await sql<{ id: string }[]>`
        update inventory.items set state = 'available', order_id = null, updated_at = now()
         where order_id = ${input.orderId} and state = 'reserved'
        returning id`;
      return { releasedItemIds: rows.map((r) => r.id) };
    },

    /** Moves the order's reserved items to shipped (idempotent). */
    async markItemsShipped(input: MarkItemsShippedInput): Promise<MarkItemsShippedResult> {
      const rows = await sql<{ id: string }[]>`
        update inventory.items set state = 'shipped', updated_at = now()
         where order_id = ${input.orderId} and state in ('reserved', 'shipped')
        returning id`;
      return { shippedItemIds: rows.map((r) => r.id) };
    },
  };
}
export type InventoryActivities = ReturnType<typeof createInventoryActivities>;

class PartialReservation extends Error {
  constructor(readonly unavailable: string[]) {
    super(`items unavailable: ${unavailable.join(', ')}`);
  }
}
