/** Stock items. The item state machine is guarded by the database, not only by code. */
import { sql } from 'drizzle-orm';
import { check, index, integer, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

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
