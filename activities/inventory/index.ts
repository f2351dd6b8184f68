/** Inventory activities: atomic reservations and every other move of the item state machine. */
import { ApplicationFailure } from '@temporalio/activity';
import type { Database } from '../../db/client';
import type { ITEM_STATES } from '../../db/schema/inventory';
import { FailureType } from '../../workflows/failures';

export type ItemState = (typeof ITEM_STATES)[number];

/** An item of a box as other domains may see it (inventory's exported read). */
export interface OrderItem {
  itemId: string;
  sku: string;
  state: ItemState;
  priceCents: number;
  costCents: number;
}

/**
 * Inventory's exported read function: the items an order holds or held (reserved, shipped,
 * returned, cleaning, sold or retired for it; a restocked item belongs to nobody again).
 */
export async function getOrderItems(sql: Database['sql'], orderId: string, itemIds?: string[]): Promise<OrderItem[]> {
  const rows = await sql<{ id: string; sku: string; state: ItemState; price: number; cost: number }[]>`
    select id, sku, state, purchase_price_cents as price,
           coalesce(cost_cents, (purchase_price_cents * 40) / 100) as cost
      from inventory.items
     where ${itemIds ? sql`id = any(${itemIds})` : sql`order_id = ${orderId}`}
     order by id`;
  return rows.map((r) => ({ itemId: r.id, sku: r.sku, state: r.state, priceCents: r.price, costCents: r.cost }));
}

export interface ItemTransitionInput {
  orderId: string;
  itemId: string;
}
export interface ItemTransitionResult {
  itemId: string;
  state: ItemState;
  /** false when the item was already in the target state (a repeated call). */
  changed: boolean;
}
export interface ReceiveReturnedItemsInput {
  orderId: string;
  itemIds: string[];
}
export interface ReceiveReturnedItemsResult {
  returnedItemIds: string[];
}
export interface SellItemResult extends ItemTransitionResult {
  priceCents: number;
  costCents: number;
}

export interface ReserveItemsInput {
  orderId: string;
  /** The styling attempt of the pick: (orderId, attempt) names one reservation request. */
  attempt: number;
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
  /**
   * Moves one item of `orderId` from `from` to `to`. Idempotent: an item already in `to` is left
   * as is. Anything else (another state, another order) is a non-retryable IllegalItemTransition;
   * the database trigger refuses illegal moves even if this check were wrong.
   */
  async function transition({ orderId, itemId }: ItemTransitionInput, from: ItemState, to: ItemState): Promise<ItemTransitionResult> {
    const rows = await sql<{ id: string }[]>`
      update inventory.items
         set state = ${to}, order_id = ${to === 'available' ? null : orderId}, updated_at = now()
       where id = ${itemId} and state = ${from} and order_id = ${orderId}
      returning id`;
    if (rows.length === 1) return { itemId, state: to, changed: true };
    const [row] = await sql<{ state: ItemState; order_id: string | null }[]>`select state, order_id from inventory.items where id = ${itemId}`;
    if (!row) throw ApplicationFailure.create({ type: FailureType.NotFound, message: `no item ${itemId}`, nonRetryable: true });
    if (row.state === to && (to === 'available' || row.order_id === orderId)) return { itemId, state: to, changed: false };
    // The box is out, but shipment.shipped has not reached the reservation yet: retry until it has.
    if (from === 'shipped' && row.state === 'reserved' && row.order_id === orderId) throw new Error(`item ${itemId} of ${orderId} is not marked shipped yet`);
    throw ApplicationFailure.create({
      type: FailureType.IllegalItemTransition,
      message: `item ${itemId} is ${row.state} (order ${row.order_id ?? 'none'}); cannot move ${from} -> ${to} for order ${orderId}`,
      nonRetryable: true,
    });
  }

  return {
    /** Inventory's read of an order's items, for other domains' workflows. */
    async listOrderItems(input: { orderId: string }): Promise<OrderItem[]> {
      return getOrderItems(sql, input.orderId);
    },

    /**
     * shipped → returned for the items that came back. An item still `reserved` means the
     * shipment.shipped delivery has not been applied yet: a plain (retried) error until it is.
     */
    async receiveReturnedItems(input: ReceiveReturnedItemsInput): Promise<ReceiveReturnedItemsResult> {
      const results: ItemTransitionResult[] = [];
      for (const itemId of input.itemIds) {
        const [row] = await sql<{ state: ItemState }[]>`select state from inventory.items where id = ${itemId} and order_id = ${input.orderId}`;
        if (row?.state === 'reserved') throw new Error(`item ${itemId} of ${input.orderId} is not marked shipped yet`);
        // Already further along (cleaning, retired...) after a retry: nothing to do.
        if (row && ['cleaning', 'retired'].includes(row.state)) continue;
        results.push(await transition({ orderId: input.orderId, itemId }, 'shipped', 'returned'));
      }
      return { returnedItemIds: results.map((r) => r.itemId) };
    },

    /** returned → cleaning (inspection found the item clean). */
    async startCleaning(input: ItemTransitionInput): Promise<ItemTransitionResult> {
      return transition(input, 'returned', 'cleaning');
    },

    /** cleaning → available: back in stock, held by nobody. */
    async restockItem(input: ItemTransitionInput): Promise<ItemTransitionResult> {
      return transition(input, 'cleaning', 'available');
    },

    /** returned → retired (inspection found the item damaged). */
    async retireItem(input: ItemTransitionInput): Promise<ItemTransitionResult> {
      return transition(input, 'returned', 'retired');
    },

    /** shipped → retired: returns declared the item lost (kept, unpaid, never sent back). */
    async retireLostItem(input: ItemTransitionInput): Promise<ItemTransitionResult> {
      return transition(input, 'shipped', 'retired');
    },

    /** shipped → sold (the member paid for an item they have); returns the price and the book value. */
    async sellItem(input: ItemTransitionInput): Promise<SellItemResult> {
      const moved = await transition(input, 'shipped', 'sold');
      const [item] = await getOrderItems(sql, input.orderId, [input.itemId]);
      return { ...moved, priceCents: item!.priceCents, costCents: item!.costCents };
    },

    /**
     * Reserves all items or none, and records the outcome per (orderId, attempt) in the same
     * transaction. A repeat of the same pick (a retry, a reset's re-run) gets the recorded answer:
     * once the box has shipped its items are no longer `available`, and re-evaluating stock would
     * turn the same pick into a shortage. Row locks taken by the UPDATE serialize racing orders:
     * the loser re-evaluates `state = 'available'` after the winner commits and sees the item gone.
     */
    async reserveItems(input: ReserveItemsInput): Promise<ReserveItemsResult> {
      const ids = [...new Set(input.itemIds)];
      return sql.begin(async (tx) => {
        // Two deliveries of the same pick at once would both miss the record; one waits here.
        await tx`select pg_advisory_xact_lock(hashtext(${`inventory.reservations:${input.orderId}`}))`;
        const [recorded] = await tx<{ outcome: 'reserved' | 'shortage'; item_ids: string[]; unavailable_item_ids: string[] }[]>`
          select outcome, item_ids, unavailable_item_ids from inventory.reservations
           where order_id = ${input.orderId} and attempt = ${input.attempt}`;
        if (recorded) {
          return recorded.outcome === 'reserved'
            ? { reserved: true as const, itemIds: recorded.item_ids }
            : { reserved: false as const, unavailableItemIds: recorded.unavailable_item_ids };
        }
        const unavailable = await tx
          .savepoint(async (sp) => {
            const rows = await sp<{ id: string }[]>`
              update inventory.items
                 set state = 'reserved', order_id = ${input.orderId}, updated_at = now()
               where id = any(${ids})
                 and (state = 'available' or (state = 'reserved' and order_id = ${input.orderId}))
              returning id`;
            const got = new Set(rows.map((r) => r.id));
            // Throwing rolls the savepoint back, so a partial reservation never becomes visible.
            if (rows.length !== ids.length) throw new PartialReservation(ids.filter((id) => !got.has(id)));
            return [] as string[];
          })
          .catch((err: unknown) => {
            if (err instanceof PartialReservation) return err.unavailable;
            throw err;
          });
        const outcome = unavailable.length === 0 ? 'reserved' : 'shortage';
        await tx`
          insert into inventory.reservations (order_id, attempt, outcome, item_ids, unavailable_item_ids)
          values (${input.orderId}, ${input.attempt}, ${outcome}, ${ids}::text[], ${unavailable}::text[])`;
        return outcome === 'reserved' ? { reserved: true as const, itemIds: ids } : { reserved: false as const, unavailableItemIds: unavailable };
      }) as Promise<ReserveItemsResult>;
    },

    /**
     * Makes every item still reserved by the order available again. The first release of the
     * order's reservation is recorded and a repeat returns it, so a re-run announces the same items.
     */
    async releaseItems(input: ReleaseItemsInput): Promise<ReleaseItemsResult> {
      return sql.begin(async (tx) => {
        const [hold] = await tx<{ done: string[] | null }[]>`
          select released_item_ids as done from inventory.reservations
           where order_id = ${input.orderId} and outcome = 'reserved' for update`;
        if (hold?.done) return { releasedItemIds: hold.done };
        const rows = await tx<{ id: string }[]>`
          update inventory.items set state = 'available', order_id = null, updated_at = now()
           where order_id = ${input.orderId} and state = 'reserved'
          returning id`;
        const releasedItemIds = rows.map((r) => r.id).sort();
        if (hold) {
          await tx`update inventory.reservations set released_item_ids = ${releasedItemIds}::text[]
                    where order_id = ${input.orderId} and outcome = 'reserved'`;
        }
        return { releasedItemIds };
      });
    },

    /**
     * Moves the order's reserved items to shipped. The first move is recorded on the reservation
     * and a repeat returns it, even after the items came back and moved on.
     */
    async markItemsShipped(input: MarkItemsShippedInput): Promise<MarkItemsShippedResult> {
      return sql.begin(async (tx) => {
        const [hold] = await tx<{ done: string[] | null }[]>`
          select shipped_item_ids as done from inventory.reservations
           where order_id = ${input.orderId} and outcome = 'reserved' for update`;
        if (hold?.done) return { shippedItemIds: hold.done };
        const rows = await tx<{ id: string }[]>`
          update inventory.items set state = 'shipped', updated_at = now()
           where order_id = ${input.orderId} and state in ('reserved', 'shipped')
          returning id`;
        const shippedItemIds = rows.map((r) => r.id).sort();
        if (hold) {
          await tx`update inventory.reservations set shipped_item_ids = ${shippedItemIds}::text[]
                    where order_id = ${input.orderId} and outcome = 'reserved'`;
        }
        return { shippedItemIds };
      });
    },
  };
}
export type InventoryActivities = ReturnType<typeof createInventoryActivities>;

class PartialReservation extends Error {
  constructor(readonly unavailable: string[]) {
    super(`items unavailable: ${unavailable.join(', ')}`);
  }
}
