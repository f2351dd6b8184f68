/**
 * Stock (`inventory.items`) and the reservations that hold it (`inventory.reservations`): the
 * reads other domains' workflows make through inventory's activities, the item state machine's
 * moves, and the all-or-nothing claim of a box. The activities (activities/inventory) turn the
 * answers into business failures; the database's triggers and checks guard the moves as well.
 */
import { and, asc, desc, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { items, reservations } from '../../db/schema/inventory';
import type { ItemState, OrderItem, ReserveItemsInput, ReserveItemsResult } from '../../workflows/inventory/contract';
import type { PickedItem } from '../../workflows/styling/contract';

/** A transaction, or the database itself: the functions below run in either. */
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Conn = Db | Tx;

/** The items an order holds or held (reserved, shipped, returned, cleaning, sold or retired for it; a restocked item belongs to nobody again). */
export async function getOrderItems(db: Conn, orderId: string, itemIds?: string[]): Promise<OrderItem[]> {
  const rows = await db
    .select({
      itemId: items.id,
      sku: items.sku,
      state: items.state,
      priceCents: items.purchasePriceCents,
      costCents: sql<number>`coalesce(${items.costCents}, (${items.purchasePriceCents} * 40) / 100)`,
    })
    .from(items)
    .where(itemIds ? inArray(items.id, itemIds) : eq(items.orderId, orderId))
    .orderBy(asc(items.id));
  return rows;
}

/** An item's state and holder; undefined for an unknown item. */
export async function itemHolder(db: Conn, itemId: string): Promise<{ state: ItemState; orderId: string | null } | undefined> {
  const [row] = await db.select({ state: items.state, orderId: items.orderId }).from(items).where(eq(items.id, itemId));
  return row;
}

/** Moves one item of `orderId` from `from` to `to` (an item made available belongs to nobody); false when it was not in `from` for that order. */
export async function moveItem(db: Conn, { orderId, itemId }: { orderId: string; itemId: string }, from: ItemState, to: ItemState): Promise<boolean> {
  const rows = await db
    .update(items)
    .set({ state: to, orderId: to === 'available' ? null : orderId, updatedAt: sql`now()` })
    .where(and(eq(items.id, itemId), eq(items.state, from), eq(items.orderId, orderId)))
    .returning({ id: items.id });
  return rows.length === 1;
}

/** How many more tries a box gets while the free items of a slot's size and category are all locked by racing reservations. */
const CLAIM_ROUNDS = 12;

const pickedColumns = { itemId: items.id, sku: items.sku, category: items.category, size: items.size, colour: items.colour };

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
export async function reserveBox(db: Db, input: ReserveItemsInput): Promise<ReserveItemsResult> {
  const alternatives = (input.alternatives ?? []).map((a) => a.itemId);
  return db.transaction(async (tx) => {
    // Two deliveries of the same pick at once would both miss the record; one waits here.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`inventory.reservations:${input.orderId}`}))`);
    const [recorded] = await tx
      .select({ outcome: reservations.outcome, itemIds: reservations.itemIds, unavailableItemIds: reservations.unavailableItemIds })
      .from(reservations)
      .where(and(eq(reservations.orderId, input.orderId), eq(reservations.attempt, input.attempt)));
    if (recorded) {
      if (recorded.outcome === 'shortage') return { reserved: false as const, unavailableItemIds: recorded.unavailableItemIds };
      const rows = await tx.select(pickedColumns).from(items).where(inArray(items.id, recorded.itemIds));
      const byId = new Map(rows.map((r) => [r.itemId, r]));
      return { reserved: true as const, items: recorded.itemIds.map((id) => byId.get(id)!) };
    }
    /** One try at the whole box: every slot or, rolled back to the savepoint, none. */
    const tryBox = () =>
      tx
        .transaction(async (sp) => {
          const claimed: PickedItem[] = [];
          for (const slot of input.items) {
            const row = await claimSlot(sp, input.orderId, slot, claimed, alternatives);
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
    const record = (outcome: 'reserved' | 'shortage', itemIds: string[], unavailableItemIds: string[]) =>
      tx.insert(reservations).values({ orderId: input.orderId, attempt: input.attempt, outcome, itemIds, unavailableItemIds });
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
  });
}

/** Claims the first free item for one slot, in styling's order of preference, skipping rows other boxes are claiming. */
async function claimSlot(tx: Tx, orderId: string, slot: PickedItem, claimed: PickedItem[], alternatives: string[]): Promise<PickedItem | undefined> {
  const pick = tx.$with('pick').as(
    tx
      .select({ id: items.id })
      .from(items)
      .where(
        and(
          eq(items.size, slot.size),
          eq(items.category, slot.category),
          sql`(${items.state} = 'available' or (${items.state} = 'reserved' and ${items.orderId} = ${orderId} and ${items.id} = ${slot.itemId}))`,
          sql`not (${items.id} = any(${sql.param(claimed.map((c) => c.itemId))}::text[]))`,
        ),
      )
      .orderBy(
        desc(sql`(${items.id} = ${slot.itemId})`),
        sql`array_position(${sql.param(alternatives)}::text[], ${items.id}) nulls last`,
        sql`md5(${items.id} || ${orderId})`,
      )
      .limit(1)
      .for('update', { skipLocked: true }),
  );
  const [row] = await tx
    .with(pick)
    .update(items)
    .set({ state: 'reserved', orderId, updatedAt: sql`now()` })
    .from(pick)
    .where(eq(items.id, pick.id))
    .returning(pickedColumns);
  return row;
}

/** Free items of the slot's size and category, locked ones included. */
async function freeItems(tx: Tx, slot: PickedItem): Promise<number> {
  const [{ n }] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(items)
    .where(and(eq(items.size, slot.size), eq(items.category, slot.category), eq(items.state, 'available')));
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

/**
 * Acts once on the order's successful reservation, recorded on it: `move` changes the items and
 * returns their ids; a repeat returns what the first run recorded, even after the items moved on.
 */
async function onceForHold(db: Db, orderId: string, column: 'releasedItemIds' | 'shippedItemIds', move: (tx: Tx) => Promise<string[]>): Promise<string[]> {
  return db.transaction(async (tx) => {
    const [hold] = await tx
      .select({ done: reservations[column] })
      .from(reservations)
      .where(and(eq(reservations.orderId, orderId), eq(reservations.outcome, 'reserved')))
      .for('update');
    if (hold?.done) return hold.done;
    const ids = (await move(tx)).sort();
    if (hold) {
      await tx
        .update(reservations)
        .set({ [column]: ids })
        .where(and(eq(reservations.orderId, orderId), eq(reservations.outcome, 'reserved')));
    }
    return ids;
  });
}

/** Makes every item still reserved by the order available again (the first release is recorded and a repeat returns it). */
export function releaseOrderItems(db: Db, orderId: string): Promise<string[]> {
  return onceForHold(db, orderId, 'releasedItemIds', async (tx) =>
    (
      await tx
        .update(items)
        .set({ state: 'available', orderId: null, updatedAt: sql`now()` })
        .where(and(eq(items.orderId, orderId), eq(items.state, 'reserved')))
        .returning({ id: items.id })
    ).map((r) => r.id),
  );
}

/** Moves the order's reserved items to shipped (the first move is recorded and a repeat returns it). */
export function markOrderItemsShipped(db: Db, orderId: string): Promise<string[]> {
  return onceForHold(db, orderId, 'shippedItemIds', async (tx) =>
    (
      await tx
        .update(items)
        .set({ state: 'shipped', updatedAt: sql`now()` })
        .where(and(eq(items.orderId, orderId), inArray(items.state, ['reserved', 'shipped'])))
        .returning({ id: items.id })
    ).map((r) => r.id),
  );
}

/**
 * Inventory's read for styling: items of a size in some categories (available ones, or exactly
 * `onlyItemIds`), in an order stable for the order yet different between orders (a hash of both
 * ids), so racing boxes rarely reach for the same pieces.
 */
export async function pickCandidates(
  db: Db,
  q: { orderId: string; size: string; categories: string[]; excludeItemIds: string[]; onlyItemIds?: string[]; limit: number },
): Promise<PickedItem[]> {
  return db
    .select(pickedColumns)
    .from(items)
    .where(
      and(
        eq(items.size, q.size),
        inArray(items.category, q.categories),
        q.onlyItemIds ? inArray(items.id, q.onlyItemIds) : eq(items.state, 'available'),
        q.excludeItemIds.length > 0 ? notInArray(items.id, q.excludeItemIds) : undefined,
      ),
    )
    .orderBy(sql`md5(${items.id} || ${q.orderId})`)
    .limit(q.limit);
}
