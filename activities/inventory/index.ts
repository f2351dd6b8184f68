/** Inventory activities: atomic reservations and every other move of the item state machine. */
import { ApplicationFailure } from '@temporalio/activity';
import type postgres from 'postgres';
import type { Database } from '../../db/client';
import type { PickedItem } from '../../workflows/styling/contract';
import { FailureType } from '../../workflows/failures';
import type {
  ItemState,
  OrderItem,
  ItemTransitionInput,
  ItemTransitionResult,
  ReceiveReturnedItemsInput,
  ReceiveReturnedItemsResult,
  SellItemResult,
  ReserveItemsInput,
  ReserveItemsResult,
  ReleaseItemsInput,
  ReleaseItemsResult,
  MarkItemsShippedInput,
  MarkItemsShippedResult,
  InventoryActivities,
} from '../../workflows/inventory/contract';

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

/** Creates the inventory activities over a database connection. */
export function createInventoryActivities({ sql }: Pick<Database, 'sql'>): InventoryActivities {
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
     * Fills every slot of the box or none, and records the outcome per (orderId, attempt) in the
     * same transaction. Each slot claims, in one statement, the first free item of its size and
     * category in styling's order of preference — its chosen item, then the ranked backups, then
     * any other — skipping rows another reservation is claiming (`FOR UPDATE SKIP LOCKED`): racing
     * boxes take different items instead of refusing each other, so a box meets a shortage only
     * when its size and category have no free item at all. A repeat of the same pick (a retry, a
     * reset's re-run) gets the recorded answer: once the box has shipped its items are no longer
     * `available`, and re-evaluating stock would turn the same pick into a shortage.
     */
    async reserveItems(input: ReserveItemsInput): Promise<ReserveItemsResult> {
      const alternatives = (input.alternatives ?? []).map((a) => a.itemId);
      return sql.begin(async (tx) => {
        // Two deliveries of the same pick at once would both miss the record; one waits here.
        await tx`select pg_advisory_xact_lock(hashtext(${`inventory.reservations:${input.orderId}`}))`;
        const [recorded] = await tx<{ outcome: 'reserved' | 'shortage'; item_ids: string[]; unavailable_item_ids: string[] }[]>`
          select outcome, item_ids, unavailable_item_ids from inventory.reservations
           where order_id = ${input.orderId} and attempt = ${input.attempt}`;
        if (recorded) {
          if (recorded.outcome === 'shortage') return { reserved: false as const, unavailableItemIds: recorded.unavailable_item_ids };
          const rows = await tx<PickedItem[]>`select id as "itemId", sku, category, size, colour from inventory.items where id = any(${recorded.item_ids})`;
          const byId = new Map(rows.map((r) => [r.itemId, r]));
          return { reserved: true as const, items: recorded.item_ids.map((id) => byId.get(id)!) };
        }
        /** One try at the whole box: every slot or, rolled back to the savepoint, none. */
        const tryBox = () =>
          tx
            .savepoint(async (sp) => {
              const claimed: PickedItem[] = [];
              for (const slot of input.items) {
                const [row] = await sp<PickedItem[]>`
                  with pick as (
                    select id from inventory.items
                     where size = ${slot.size} and category = ${slot.category}
                       and (state = 'available' or (state = 'reserved' and order_id = ${input.orderId} and id = ${slot.itemId}))
                       and not (id = any(${claimed.map((c) => c.itemId)}::text[]))
                     order by (id = ${slot.itemId}) desc, array_position(${alternatives}::text[], id) nulls last, md5(id || ${input.orderId})
                     limit 1
                     for update skip locked
                  )
                  update inventory.items i set state = 'reserved', order_id = ${input.orderId}, updated_at = now()
                    from pick where i.id = pick.id
                  returning i.id as "itemId", i.sku, i.category, i.size, i.colour`;
                // Throwing rolls the savepoint back, so a partial reservation never becomes visible.
                if (!row) throw new PartialReservation([slot.itemId], slot);
                claimed.push(row);
              }
              return claimed;
            })
            .catch((err: unknown) => {
              if (err instanceof PartialReservation) return err;
              throw err;
            });
        let held = await tryBox();
        // A slot found nothing unlocked. If free items of its size and category exist they are
        // locked by racing reservations, which will commit or roll back in a moment: having let go
        // of everything (the savepoint), try the whole box again. Only a slot with no free item at
        // all is a shortage. Never waiting while holding rows keeps racing boxes from deadlocking.
        for (let round = 1; held instanceof PartialReservation && round <= CLAIM_ROUNDS && (await freeItems(tx, held.slot)) > 0; round++) {
          await new Promise((r) => setTimeout(r, 5 * round + Math.floor(Math.random() * 10 * round)));
          held = await tryBox();
        }
        const record = (outcome: 'reserved' | 'shortage', itemIds: string[], unavailable: string[]) => tx`
          insert into inventory.reservations (order_id, attempt, outcome, item_ids, unavailable_item_ids)
          values (${input.orderId}, ${input.attempt}, ${outcome}, ${itemIds}::text[], ${unavailable}::text[])`;
        if (held instanceof PartialReservation) {
          await record(
            'shortage',
            input.items.map((i) => i.itemId),
            held.unavailable,
          );
          return { reserved: false as const, unavailableItemIds: held.unavailable };
        }
        await record(
          'reserved',
          held.map((h) => h.itemId),
          [],
        );
        return { reserved: true as const, items: held };
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

/** How many more tries a box gets while the free items of a slot's size and category are all locked by racing reservations. */
const CLAIM_ROUNDS = 12;

/** Free items of the slot's size and category, locked ones included. */
async function freeItems(sql: postgres.TransactionSql, slot: PickedItem): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`
    select count(*)::int as n from inventory.items where size = ${slot.size} and category = ${slot.category} and state = 'available'`;
  return n;
}

class PartialReservation extends Error {
  constructor(
    readonly unavailable: string[],
    readonly slot: PickedItem,
  ) {
    super(`items unavailable: ${unavailable.join(', ')}`);
  }
}
