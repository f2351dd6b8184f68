/** Inventory activities: atomic reservations and every other move of the item state machine (data access: store/inventory/items.ts). */
import { ApplicationFailure } from '@temporalio/activity';
import type { Database } from '../../db/client';
import { getOrderItems, itemHolder, markOrderItemsShipped, moveItem, releaseOrderItems, reserveBox } from '../../store/inventory/items';
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

/** Creates the inventory activities over a database connection. */
export function createInventoryActivities({ db }: Pick<Database, 'db'>): InventoryActivities {
  /**
   * Moves one item of `orderId` from `from` to `to`. Idempotent: an item already in `to` is left
   * as is. Anything else (another state, another order) is a non-retryable IllegalItemTransition;
   * the database trigger refuses illegal moves even if this check were wrong.
   */
  async function transition({ orderId, itemId }: ItemTransitionInput, from: ItemState, to: ItemState): Promise<ItemTransitionResult> {
    if (await moveItem(db, { orderId, itemId }, from, to)) return { itemId, state: to, changed: true };
    const row = await itemHolder(db, itemId);
    if (!row) throw ApplicationFailure.create({ type: FailureType.NotFound, message: `no item ${itemId}`, nonRetryable: true });
    if (row.state === to && (to === 'available' || row.orderId === orderId)) return { itemId, state: to, changed: false };
    // The box is out, but shipment.shipped has not reached the reservation yet: retry until it has.
    if (from === 'shipped' && row.state === 'reserved' && row.orderId === orderId) throw new Error(`item ${itemId} of ${orderId} is not marked shipped yet`);
    throw ApplicationFailure.create({
      type: FailureType.IllegalItemTransition,
      message: `item ${itemId} is ${row.state} (order ${row.orderId ?? 'none'}); cannot move ${from} -> ${to} for order ${orderId}`,
      nonRetryable: true,
    });
  }

  return {
    /** Inventory's read of an order's items, for other domains' workflows. */
    async listOrderItems(input: { orderId: string }): Promise<OrderItem[]> {
      return getOrderItems(db, input.orderId);
    },

    /**
     * shipped → returned for the items that came back. An item still `reserved` means the
     * shipment.shipped delivery has not been applied yet: a plain (retried) error until it is.
     */
    async receiveReturnedItems(input: ReceiveReturnedItemsInput): Promise<ReceiveReturnedItemsResult> {
      const results: ItemTransitionResult[] = [];
      for (const itemId of input.itemIds) {
        const found = await itemHolder(db, itemId);
        const row = found?.orderId === input.orderId ? found : undefined;
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
      const [item] = await getOrderItems(db, input.orderId, [input.itemId]);
      return { ...moved, priceCents: item!.priceCents, costCents: item!.costCents };
    },

    /** Fills every slot of the box or none; a repeat of the same pick gets the recorded answer (store/inventory/items.ts). */
    async reserveItems(input: ReserveItemsInput): Promise<ReserveItemsResult> {
      return reserveBox(db, input);
    },

    /** Makes every item still reserved by the order available again; a repeat returns the first release's items. */
    async releaseItems(input: ReleaseItemsInput): Promise<ReleaseItemsResult> {
      return { releasedItemIds: await releaseOrderItems(db, input.orderId) };
    },

    /** Moves the order's reserved items to shipped; a repeat returns the first move's items, even after they came back. */
    async markItemsShipped(input: MarkItemsShippedInput): Promise<MarkItemsShippedResult> {
      return { shippedItemIds: await markOrderItemsShipped(db, input.orderId) };
    },
  };
}
