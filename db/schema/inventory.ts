/** Stock items. The item state machine is guarded by the database, not only by code. */
import { sql } from 'drizzle-orm';
import { check, index, integer, pgSchema, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const inventorySchema = pgSchema('inventory');

export const ITEM_STATES = ['available', 'reserved', 'shipped', 'returned', 'cleaning', 'sold', 'retired'] as const;

export const items = inventorySchema.table(
  'items',
  {
    id: text('id').primaryKey(),
    sku: text('sku').notNull(),
    category: text('category').notNull(),
    size: text('size').notNull(),
    colour: text('colour').notNull(),
    /** What a member pays to buy the item. */
    purchasePriceCents: integer('purchase_price_cents').notNull(),
    /** Book value (cost of goods sold when the item is bought); unset means 40% of the purchase price. */
    costCents: integer('cost_cents'),
    state: text('state', { enum: ITEM_STATES }).notNull().default('available'),
    /** The order holding the item while it is reserved or out with a member. */
    orderId: text('order_id'),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    check('items_state_valid', sql`${t.state} in ('available','reserved','shipped','returned','cleaning','sold','retired')`),
    // An item held by an order must name it, and an available item belongs to nobody: this is
    // what makes "never reserved by two orders" a database fact.
    check(
      'items_holder_matches_state',
      sql`(${t.state} in ('reserved','shipped') and ${t.orderId} is not null) or (${t.state} = 'available' and ${t.orderId} is null) or ${t.state} not in ('available','reserved','shipped')`,
    ),
    index('items_pick_idx').on(t.state, t.size, t.category),
    index('items_order_idx').on(t.orderId),
  ],
);

/**
 * One row per pick an order asked to reserve (order + styling attempt), written in the transaction
 * that reserved or refused it: a repeat of the same pick (a retry, a reset's re-run) is answered
 * from here rather than from the items' current state, which moves on once the box ships.
 */
export const reservations = inventorySchema.table(
  'reservations',
  {
    orderId: text('order_id').notNull(),
    attempt: integer('attempt').notNull(),
    outcome: text('outcome', { enum: ['reserved', 'shortage'] }).notNull(),
    /** The items reserved (outcome reserved) or asked for (shortage). */
    itemIds: text('item_ids').array().notNull(),
    unavailableItemIds: text('unavailable_item_ids')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** What releaseItems let go of, once it has run for this reservation. */
    releasedItemIds: text('released_item_ids').array(),
    /** What markItemsShipped moved to shipped, once it has run for this reservation. */
    shippedItemIds: text('shipped_item_ids').array(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.orderId, t.attempt] }),
    check('reservations_outcome_valid', sql`${t.outcome} in ('reserved','shortage')`),
    // An order holds one box: release and shipment act on its single successful reservation.
    uniqueIndex('reservations_one_hold_per_order')
      .on(t.orderId)
      .where(sql`${t.outcome} = 'reserved'`),
  ],
);
