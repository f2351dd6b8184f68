/** The item state machine against the real PostgreSQL: the trigger refuses illegal moves, activities are idempotent. */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createInventoryActivities } from '../../activities/inventory';
import { createReturnsActivities } from '../../activities/returns';
import { connectDatabase, type Database } from '../../db/client';
import { seedItems, uniqueId } from '../support/system';

describe('the item state machine', () => {
  let database: Database;
  /** The seeded items as styling picks them. */
  const picksOf = async (itemIds: string[]) =>
    database.sql<{ itemId: string; sku: string; category: string; size: string; colour: string }[]>`
      select id as "itemId", sku, category, size, colour from inventory.items where id = any(${itemIds}) order by id`;
  beforeAll(() => {
    database = connectDatabase(process.env.DATABASE_URL!, { max: 5 });
  });
  afterAll(async () => database?.close());

  const stateOf = async (id: string) =>
    (await database.sql<{ state: string; order_id: string | null }[]>`select state, order_id from inventory.items where id = ${id}`)[0];

  it('the database refuses an illegal item transition, whoever writes it', async () => {
    const { itemIds } = await seedItems(database, ['dress'], 1);
    const [id] = itemIds;
    // available → shipped skips the reservation.
    await expect(database.sql`update inventory.items set state = 'shipped', order_id = 'o_x' where id = ${id}`).rejects.toThrow(
      /illegal item transition available -> shipped/,
    );
    await expect(database.sql`update inventory.items set state = 'sold', order_id = 'o_x' where id = ${id}`).rejects.toThrow(
      /illegal item transition available -> sold/,
    );
    expect(await stateOf(id)).toEqual({ state: 'available', order_id: null });
    // A legal path, then nothing leaves a final state.
    await database.sql`update inventory.items set state = 'reserved', order_id = 'o_x' where id = ${id}`;
    await database.sql`update inventory.items set state = 'shipped' where id = ${id}`;
    await database.sql`update inventory.items set state = 'sold' where id = ${id}`;
    await expect(database.sql`update inventory.items set state = 'available', order_id = null where id = ${id}`).rejects.toThrow(
      /illegal item transition sold -> available/,
    );
    await expect(database.sql`update inventory.items set state = 'returned' where id = ${id}`).rejects.toThrow(/sold -> returned/);
  });

  it('moves a returned item through inspection idempotently, and refuses a move out of order', async () => {
    const { itemIds } = await seedItems(database, ['top', 'skirt'], 1);
    const [clean, damaged] = itemIds;
    const inventory = createInventoryActivities(database);
    const orderId = uniqueId('o');
    await inventory.reserveItems({ orderId, attempt: 1, items: await picksOf(itemIds) });
    await inventory.markItemsShipped({ orderId });

    await expect(inventory.receiveReturnedItems({ orderId, itemIds })).resolves.toEqual({ returnedItemIds: itemIds });
    await expect(inventory.receiveReturnedItems({ orderId, itemIds })).resolves.toEqual({ returnedItemIds: itemIds });
    await expect(inventory.restockItem({ orderId, itemId: clean })).rejects.toMatchObject({ type: 'IllegalItemTransition' });

    await expect(inventory.startCleaning({ orderId, itemId: clean })).resolves.toMatchObject({ state: 'cleaning', changed: true });
    await expect(inventory.startCleaning({ orderId, itemId: clean })).resolves.toMatchObject({ state: 'cleaning', changed: false });
    await expect(inventory.restockItem({ orderId, itemId: clean })).resolves.toMatchObject({ state: 'available', changed: true });
    await expect(inventory.restockItem({ orderId, itemId: clean })).resolves.toMatchObject({ state: 'available', changed: false });
    expect(await stateOf(clean)).toEqual({ state: 'available', order_id: null });

    await expect(inventory.retireItem({ orderId, itemId: damaged })).resolves.toMatchObject({ state: 'retired', changed: true });
    await expect(inventory.retireItem({ orderId, itemId: damaged })).resolves.toMatchObject({ state: 'retired', changed: false });
    await expect(inventory.sellItem({ orderId, itemId: damaged })).rejects.toMatchObject({ type: 'IllegalItemTransition' });
  });

  it('retires a lost item straight from the member (shipped → retired), once, and never from stock', async () => {
    const { itemIds } = await seedItems(database, ['coat', 'scarf'], 1);
    const [lost, back] = itemIds;
    const inventory = createInventoryActivities(database);
    const orderId = uniqueId('o');
    await inventory.reserveItems({ orderId, attempt: 1, items: await picksOf(itemIds) });
    await inventory.markItemsShipped({ orderId });
    await expect(inventory.retireLostItem({ orderId, itemId: lost })).resolves.toMatchObject({ state: 'retired', changed: true });
    await expect(inventory.retireLostItem({ orderId, itemId: lost })).resolves.toMatchObject({ state: 'retired', changed: false });
    expect(await stateOf(lost)).toEqual({ state: 'retired', order_id: orderId });
    // An item that came back is inspected, not written off as lost.
    await inventory.receiveReturnedItems({ orderId, itemIds: [back] });
    await expect(inventory.retireLostItem({ orderId, itemId: back })).rejects.toMatchObject({ type: 'IllegalItemTransition' });
    // Stock on the shelf cannot be retired by skipping the member.
    const [shelf] = (await seedItems(database, ['belt'], 1)).itemIds;
    await expect(database.sql`update inventory.items set state = 'retired', order_id = 'o_x' where id = ${shelf}`).rejects.toThrow(
      /illegal item transition available -> retired/,
    );
  });

  it('sells a shipped item once, with its price and book value', async () => {
    const { itemIds } = await seedItems(database, ['jacket'], 1);
    const inventory = createInventoryActivities(database);
    const orderId = uniqueId('o');
    await inventory.reserveItems({ orderId, attempt: 1, items: await picksOf(itemIds) });
    // Still reserved: the shipment has not been applied yet, so the sale is retried (plain error).
    await expect(inventory.sellItem({ orderId, itemId: itemIds[0] })).rejects.toThrow(/not marked shipped yet/);
    await inventory.markItemsShipped({ orderId });
    await expect(inventory.sellItem({ orderId, itemId: itemIds[0] })).resolves.toEqual({
      itemId: itemIds[0],
      state: 'sold',
      changed: true,
      priceCents: 3000,
      costCents: 1200,
    });
    await expect(inventory.sellItem({ orderId, itemId: itemIds[0] })).resolves.toMatchObject({ state: 'sold', changed: false });
    // Another order cannot sell it.
    await expect(inventory.sellItem({ orderId: uniqueId('o'), itemId: itemIds[0] })).rejects.toMatchObject({ type: 'IllegalItemTransition' });
  });

  it('sends each reminder of an order once, whatever retries or resets repeat it', async () => {
    const returns = createReturnsActivities({ db: database.db });
    const input = { orderId: uniqueId('o'), customerId: 'c_1', offset: '-3 days', deadline: new Date().toISOString() };
    const send = (i: typeof input) => new MockActivityEnvironment().run(returns.sendReminder, i);
    await expect(send(input)).resolves.toEqual({ sent: true });
    await expect(send(input)).resolves.toEqual({ sent: false });
    await expect(send({ ...input, offset: '0 days' })).resolves.toEqual({ sent: true });
  });
});
