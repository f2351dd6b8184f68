/** Inventory reservations against the real PostgreSQL. */
import { createInventoryActivities } from '../../activities/inventory';
import { connectDatabase, type Database } from '../../db/client';
import { seedItems, uniqueId } from '../support/system';

describe('inventory reservations', () => {
  let database: Database;
  beforeAll(() => {
    database = connectDatabase(process.env.DATABASE_URL!, { max: 20 });
  });
  afterAll(async () => database?.close());

  it('never reserves an item for two orders when twenty orders race for the last items', async () => {
    const { itemIds } = await seedItems(database, ['dress'], 5);
    const inventory = createInventoryActivities(database);
    const orders = Array.from({ length: 20 }, (_, n) => ({
      orderId: uniqueId('race'),
      attempt: 1,
      // Overlapping picks of two items each, so most orders collide with another.
      itemIds: [itemIds[n % 5], itemIds[(n * 3 + 1) % 5]].filter((v, i, a) => a.indexOf(v) === i),
    }));
    const results = await Promise.all(orders.map((o) => inventory.reserveItems(o)));

    const winners = orders.filter((_, i) => results[i].reserved);
    expect(winners.length).toBeGreaterThan(0);
    const rows = await database.sql<{ id: string; state: string; order_id: string | null }[]>`select id, state, order_id from inventory.items where id = any(${itemIds})`;
    for (const winner of winners) {
      // A winner holds every item it asked for.
      for (const id of winner.itemIds) expect(rows.find((r) => r.id === id)?.order_id).toBe(winner.orderId);
    }
    // A loser holds nothing: reservations are all-or-nothing.
    const losers = new Set(orders.filter((_, i) => !results[i].reserved).map((o) => o.orderId));
    expect(rows.filter((r) => r.order_id && losers.has(r.order_id))).toEqual([]);
    // Each held item is counted once across the winners.
    const held = winners.flatMap((w) => w.itemIds);
    expect(new Set(held).size).toBe(held.length);
    expect(rows.filter((r) => r.state === 'reserved')).toHaveLength(held.length);
  });

  it('treats a repeated reservation by the same order as already done', async () => {
    const { itemIds } = await seedItems(database, ['top'], 2);
    const inventory = createInventoryActivities(database);
    const orderId = uniqueId('o');
    await expect(inventory.reserveItems({ orderId, attempt: 1, itemIds })).resolves.toEqual({ reserved: true, itemIds });
    await expect(inventory.reserveItems({ orderId, attempt: 1, itemIds })).resolves.toEqual({ reserved: true, itemIds });
  });

  it('answers a repeated pick from its record after the box has shipped, come back and been restocked', async () => {
    const { itemIds } = await seedItems(database, ['top'], 2);
    const inventory = createInventoryActivities(database);
    const orderId = uniqueId('o');
    await inventory.reserveItems({ orderId, attempt: 1, itemIds });
    await expect(inventory.markItemsShipped({ orderId })).resolves.toEqual({ shippedItemIds: [...itemIds].sort() });
    // Shipped: a fresh look at stock would call these items unavailable.
    await expect(inventory.reserveItems({ orderId, attempt: 1, itemIds })).resolves.toEqual({ reserved: true, itemIds });
    await inventory.receiveReturnedItems({ orderId, itemIds });
    for (const itemId of itemIds) {
      await inventory.startCleaning({ orderId, itemId });
      await inventory.restockItem({ orderId, itemId });
    }
    // Back in stock and free: the repeat still reserves nothing anew and ships nothing again.
    await expect(inventory.reserveItems({ orderId, attempt: 1, itemIds })).resolves.toEqual({ reserved: true, itemIds });
    await expect(inventory.markItemsShipped({ orderId })).resolves.toEqual({ shippedItemIds: [...itemIds].sort() });
    const rows = await database.sql<{ state: string; order_id: string | null }[]>`select state, order_id from inventory.items where id = any(${itemIds})`;
    expect(rows).toEqual([
      { state: 'available', order_id: null },
      { state: 'available', order_id: null },
    ]);
  });

  it('answers a repeated shortage as a shortage even once the items are free again', async () => {
    const { itemIds } = await seedItems(database, ['dress'], 2);
    const inventory = createInventoryActivities(database);
    const first = uniqueId('first');
    await inventory.reserveItems({ orderId: first, attempt: 1, itemIds: [itemIds[0]] });
    const second = uniqueId('second');
    await expect(inventory.reserveItems({ orderId: second, attempt: 1, itemIds })).resolves.toEqual({ reserved: false, unavailableItemIds: [itemIds[0]] });
    await inventory.releaseItems({ orderId: first });
    await expect(inventory.reserveItems({ orderId: second, attempt: 1, itemIds })).resolves.toEqual({ reserved: false, unavailableItemIds: [itemIds[0]] });
    // A new pick (the next styling attempt) looks at stock afresh.
    await expect(inventory.reserveItems({ orderId: second, attempt: 2, itemIds })).resolves.toEqual({ reserved: true, itemIds });
  });

  it('reports the unavailable items and reserves none of the others', async () => {
    const { itemIds } = await seedItems(database, ['skirt'], 3);
    const inventory = createInventoryActivities(database);
    await inventory.reserveItems({ orderId: uniqueId('first'), attempt: 1, itemIds: [itemIds[0]] });
    const second = uniqueId('second');
    await expect(inventory.reserveItems({ orderId: second, attempt: 1, itemIds })).resolves.toEqual({ reserved: false, unavailableItemIds: [itemIds[0]] });
    const [{ count }] = await database.sql<{ count: number }[]>`select count(*)::int as count from inventory.items where order_id = ${second}`;
    expect(count).toBe(0);
  });

  it('refuses, in the database itself, a reserved item that names no order', async () => {
    const { itemIds } = await seedItems(database, ['knitwear'], 1);
    await expect(database.sql`update inventory.items set state = 'reserved' where id = ${itemIds[0]}`).rejects.toThrow(/items_holder_matches_state/);
    await expect(database.sql`update inventory.items set state = 'lost' where id = ${itemIds[0]}`).rejects.toThrow(/items_state_valid/);
  });

  it('releases only what the order holds, and a repeated release answers with the same items', async () => {
    const { itemIds } = await seedItems(database, ['jacket'], 2);
    const inventory = createInventoryActivities(database);
    const orderId = uniqueId('o');
    await inventory.reserveItems({ orderId, attempt: 1, itemIds: [itemIds[0]] });
    await expect(inventory.releaseItems({ orderId })).resolves.toEqual({ releasedItemIds: [itemIds[0]] });
    // Another order takes the item: the repeat still names what this order let go of, and moves nothing.
    const other = uniqueId('other');
    await inventory.reserveItems({ orderId: other, attempt: 1, itemIds: [itemIds[0]] });
    await expect(inventory.releaseItems({ orderId })).resolves.toEqual({ releasedItemIds: [itemIds[0]] });
    const [row] = await database.sql<{ order_id: string }[]>`select order_id from inventory.items where id = ${itemIds[0]}`;
    expect(row.order_id).toBe(other);
  });

  it('releases nothing for an order that never held a reservation', async () => {
    const inventory = createInventoryActivities(database);
    await expect(inventory.releaseItems({ orderId: uniqueId('tombstone') })).resolves.toEqual({ releasedItemIds: [] });
  });
});
