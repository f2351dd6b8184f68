/** Inventory reservations against the real PostgreSQL. */
import { createInventoryActivities } from '../../activities/inventory';
import { connectDatabase, type Database } from '../../db/client';
import type { PickedItem } from '../../workflows/styling/contract';
import { seedItems, uniqueId } from '../support/system';

/** Seeds `count` items of one category in a size of their own, and describes them as styling picks them. */
async function seedPicks(database: Database, category: string, count: number): Promise<{ itemIds: string[]; pick: (ids: string[]) => PickedItem[] }> {
  const { size, itemIds } = await seedItems(database, [category], count);
  const pick = (ids: string[]) => ids.map((itemId) => ({ itemId, sku: `${category}-${size}`.toUpperCase(), category, size, colour: 'black' }));
  return { itemIds, pick };
}
const ids = (result: { reserved: boolean; items?: PickedItem[] }) => (result.items ?? []).map((i) => i.itemId);

describe('inventory reservations', () => {
  let database: Database;
  beforeAll(() => {
    database = connectDatabase(process.env.DATABASE_URL!, { max: 20 });
  });
  afterAll(async () => database?.close());

  it('never reserves an item for two orders when twenty orders race for the last items', async () => {
    const { itemIds, pick } = await seedPicks(database, 'dress', 5);
    const inventory = createInventoryActivities(database);
    const orders = Array.from({ length: 20 }, (_, n) => ({
      orderId: uniqueId('race'),
      attempt: 1,
      // Overlapping picks of two items each, so most orders collide with another.
      items: pick([itemIds[n % 5], itemIds[(n * 3 + 1) % 5]].filter((v, i, a) => a.indexOf(v) === i)),
    }));
    const results = await Promise.all(orders.map((o) => inventory.reserveItems(o)));

    const winners = orders.map((o, i) => ({ orderId: o.orderId, held: ids(results[i]) })).filter((_, i) => results[i].reserved);
    expect(winners.length).toBeGreaterThan(0);
    const rows = await database.sql<
      { id: string; state: string; order_id: string | null }[]
    >`select id, state, order_id from inventory.items where id = any(${itemIds})`;
    for (const winner of winners) {
      // A winner holds every item it got, one per slot it asked for.
      expect(winner.held).toHaveLength(orders.find((o) => o.orderId === winner.orderId)!.items.length);
      for (const id of winner.held) expect(rows.find((r) => r.id === id)?.order_id).toBe(winner.orderId);
    }
    // A loser holds nothing: reservations are all-or-nothing.
    const losers = new Set(orders.filter((_, i) => !results[i].reserved).map((o) => o.orderId));
    expect(rows.filter((r) => r.order_id && losers.has(r.order_id))).toEqual([]);
    // Each held item is counted once across the winners, and stock ran out before anyone lost.
    const held = winners.flatMap((w) => w.held);
    expect(new Set(held).size).toBe(held.length);
    expect(rows.filter((r) => r.state === 'reserved')).toHaveLength(held.length);
    expect(rows.filter((r) => r.state === 'available').length).toBeLessThan(2);
  });

  it('fills every racing box while stock of its size and category suffices, whatever styling chose', async () => {
    const { itemIds, pick } = await seedPicks(database, 'top', 60);
    const inventory = createInventoryActivities(database);
    // Twenty boxes of two items, all styled with the same two items and the same backups.
    const orders = Array.from({ length: 20 }, () => ({
      orderId: uniqueId('crowd'),
      attempt: 1,
      items: pick(itemIds.slice(0, 2)),
      alternatives: pick(itemIds.slice(2, 6)),
    }));
    const results = await Promise.all(orders.map((o) => inventory.reserveItems(o)));
    expect(results.filter((r) => !r.reserved)).toEqual([]);
    const held = results.flatMap((r) => ids(r));
    expect(held).toHaveLength(40);
    expect(new Set(held).size).toBe(40);
    // Preference order holds where it can: the chosen items and the backups went first.
    expect(held).toEqual(expect.arrayContaining(itemIds.slice(0, 6)));
  });

  it('meets a shortage only when no item of the size and category is free', async () => {
    const { itemIds, pick } = await seedPicks(database, 'skirt', 3);
    const inventory = createInventoryActivities(database);
    await expect(inventory.reserveItems({ orderId: uniqueId('a'), attempt: 1, items: pick([itemIds[0], itemIds[1]]) })).resolves.toMatchObject({
      reserved: true,
    });
    // The third item is free: a box styled with a taken one still gets a box.
    const second = await inventory.reserveItems({ orderId: uniqueId('b'), attempt: 1, items: pick([itemIds[0]]) });
    expect(second).toEqual({ reserved: true, items: pick([itemIds[2]]) });
    // Now nothing is free.
    await expect(inventory.reserveItems({ orderId: uniqueId('c'), attempt: 1, items: pick([itemIds[1]]) })).resolves.toEqual({
      reserved: false,
      unavailableItemIds: [itemIds[1]],
    });
  });

  it('treats a repeated reservation by the same order as already done', async () => {
    const { itemIds, pick } = await seedPicks(database, 'top', 2);
    const inventory = createInventoryActivities(database);
    const orderId = uniqueId('o');
    await expect(inventory.reserveItems({ orderId, attempt: 1, items: pick(itemIds) })).resolves.toEqual({ reserved: true, items: pick(itemIds) });
    await expect(inventory.reserveItems({ orderId, attempt: 1, items: pick(itemIds) })).resolves.toEqual({ reserved: true, items: pick(itemIds) });
  });

  it('answers a repeated pick from its record after the box has shipped, come back and been restocked', async () => {
    const { itemIds, pick } = await seedPicks(database, 'top', 2);
    const inventory = createInventoryActivities(database);
    const orderId = uniqueId('o');
    await inventory.reserveItems({ orderId, attempt: 1, items: pick(itemIds) });
    await expect(inventory.markItemsShipped({ orderId })).resolves.toEqual({ shippedItemIds: [...itemIds].sort() });
    // Shipped: a fresh look at stock would call these items unavailable.
    await expect(inventory.reserveItems({ orderId, attempt: 1, items: pick(itemIds) })).resolves.toEqual({ reserved: true, items: pick(itemIds) });
    await inventory.receiveReturnedItems({ orderId, itemIds });
    for (const itemId of itemIds) {
      await inventory.startCleaning({ orderId, itemId });
      await inventory.restockItem({ orderId, itemId });
    }
    // Back in stock and free: the repeat still reserves nothing anew and ships nothing again.
    await expect(inventory.reserveItems({ orderId, attempt: 1, items: pick(itemIds) })).resolves.toEqual({ reserved: true, items: pick(itemIds) });
    await expect(inventory.markItemsShipped({ orderId })).resolves.toEqual({ shippedItemIds: [...itemIds].sort() });
    const rows = await database.sql<{ state: string; order_id: string | null }[]>`select state, order_id from inventory.items where id = any(${itemIds})`;
    expect(rows).toEqual([
      { state: 'available', order_id: null },
      { state: 'available', order_id: null },
    ]);
  });

  it('answers a repeated shortage as a shortage even once the items are free again', async () => {
    const { itemIds, pick } = await seedPicks(database, 'dress', 2);
    const inventory = createInventoryActivities(database);
    const first = uniqueId('first');
    await inventory.reserveItems({ orderId: first, attempt: 1, items: pick(itemIds) });
    const second = uniqueId('second');
    await expect(inventory.reserveItems({ orderId: second, attempt: 1, items: pick(itemIds) })).resolves.toEqual({
      reserved: false,
      unavailableItemIds: [itemIds[0]],
    });
    await inventory.releaseItems({ orderId: first });
    await expect(inventory.reserveItems({ orderId: second, attempt: 1, items: pick(itemIds) })).resolves.toEqual({
      reserved: false,
      unavailableItemIds: [itemIds[0]],
    });
    // A new pick (the next styling attempt) looks at stock afresh.
    await expect(inventory.reserveItems({ orderId: second, attempt: 2, items: pick(itemIds) })).resolves.toEqual({ reserved: true, items: pick(itemIds) });
  });

  it('reports the slot it could not fill and reserves none of the others', async () => {
    const { itemIds, pick } = await seedPicks(database, 'skirt', 3);
    const inventory = createInventoryActivities(database);
    await inventory.reserveItems({ orderId: uniqueId('first'), attempt: 1, items: pick([itemIds[0], itemIds[1]]) });
    const second = uniqueId('second');
    // Two slots, one free item: the first slot takes it, the second finds nothing.
    await expect(inventory.reserveItems({ orderId: second, attempt: 1, items: pick([itemIds[0], itemIds[1]]) })).resolves.toEqual({
      reserved: false,
      unavailableItemIds: [itemIds[1]],
    });
    const [{ count }] = await database.sql<{ count: number }[]>`select count(*)::int as count from inventory.items where order_id = ${second}`;
    expect(count).toBe(0);
  });

  it('refuses, in the database itself, a reserved item that names no order', async () => {
    const { itemIds } = await seedItems(database, ['knitwear'], 1);
    await expect(database.sql`update inventory.items set state = 'reserved' where id = ${itemIds[0]}`).rejects.toThrow(/items_holder_matches_state/);
    await expect(database.sql`update inventory.items set state = 'lost' where id = ${itemIds[0]}`).rejects.toThrow(/items_state_valid/);
  });

  it('releases only what the order holds, and a repeated release answers with the same items', async () => {
    const { itemIds, pick } = await seedPicks(database, 'jacket', 2);
    const inventory = createInventoryActivities(database);
    const orderId = uniqueId('o');
    await inventory.reserveItems({ orderId, attempt: 1, items: pick([itemIds[0]]) });
    await expect(inventory.releaseItems({ orderId })).resolves.toEqual({ releasedItemIds: [itemIds[0]] });
    // Another order takes the item: the repeat still names what this order let go of, and moves nothing.
    const other = uniqueId('other');
    await inventory.reserveItems({ orderId: other, attempt: 1, items: pick([itemIds[0]]) });
    await expect(inventory.releaseItems({ orderId })).resolves.toEqual({ releasedItemIds: [itemIds[0]] });
    const [row] = await database.sql<{ order_id: string }[]>`select order_id from inventory.items where id = ${itemIds[0]}`;
    expect(row.order_id).toBe(other);
  });

  it('releases nothing for an order that never held a reservation', async () => {
    const inventory = createInventoryActivities(database);
    await expect(inventory.releaseItems({ orderId: uniqueId('tombstone') })).resolves.toEqual({ releasedItemIds: [] });
  });
});
