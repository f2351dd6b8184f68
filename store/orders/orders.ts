/**
 * The orders read model (`orders.orders`): what the orders activities write on every transition,
 * what the API reads for GET /v1/orders, and the address warehouse integration ships to.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import { preparedQuery, type Db } from '../../db/client';
import { customers } from '../../db/schema/auth';
import { memberships } from '../../db/schema/membership';
import { orders } from '../../db/schema/orders';
import { addressSchema, type Address, type RecordOrderStatusInput } from '../../workflows/orders/contract';

export type OrderRow = typeof orders.$inferSelect;

/** An order row plus its exact creation time (microseconds, ISO UTC) for keyset pagination. */
export type ListedOrder = OrderRow & { createdAtKey: string };

/** Position after which a page starts: the last row of the previous page. */
export interface OrderPageKey {
  createdAt: string;
  id: string;
}

/** The order, whoever's it is (ops). */
export async function getOrder(db: Db, orderId: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, orderId)).limit(1);
  return row;
}

/** The order if it belongs to `customerId`; undefined for unknown ids and other members' orders alike. */
export async function getCustomerOrder(db: Db, customerId: string, orderId: string): Promise<OrderRow | undefined> {
  const [row] = await customerOrder(db).execute({ orderId, customerId });
  return row;
}

// Behind every GET /v1/orders/:id: prepared once per database handle.
const customerOrder = preparedQuery((db) =>
  db
    .select()
    .from(orders)
    .where(and(eq(orders.id, sql.placeholder('orderId')), eq(orders.customerId, sql.placeholder('customerId'))))
    .limit(1)
    .prepare('customer_order'),
);

/**
 * One page of a member's orders, newest first (created_at desc, id desc). `after` continues from
 * a previous page's last row. The key keeps postgres's microseconds: a JS Date would round them
 * away and skip or repeat rows created within the same millisecond.
 */
export async function listCustomerOrders(db: Db, customerId: string, opts: { limit: number; after?: OrderPageKey }): Promise<ListedOrder[]> {
  const createdAtKey = sql<string>`to_char(${orders.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  const after = opts.after ? sql`(${orders.createdAt}, ${orders.id}) < (${opts.after.createdAt}::timestamptz, ${opts.after.id})` : undefined;
  const rows = await db
    .select({ row: orders, createdAtKey })
    .from(orders)
    .where(and(eq(orders.customerId, customerId), after))
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(opts.limit);
  return rows.map(({ row, createdAtKey: key }) => ({ ...row, createdAtKey: key }));
}

/** Writes an order's read-model row; replaying the same transition writes the same row (idempotent). */
export async function upsertOrder(db: Db, input: RecordOrderStatusInput): Promise<void> {
  const { order } = input;
  await db
    .insert(orders)
    .values({
      id: order.orderId,
      customerId: order.customerId,
      status: input.status,
      statusReason: input.statusReason ?? null,
      size: order.size,
      categories: order.categories,
      itemCount: order.itemCount,
      address: order.address,
      itemIds: input.itemIds ?? [],
      trackingNumber: input.trackingNumber ?? null,
      purchasedItemIds: input.purchasedItemIds ?? [],
    })
    .onConflictDoUpdate({
      target: orders.id,
      set: {
        status: input.status,
        statusReason: input.statusReason ?? null,
        ...(input.itemIds ? { itemIds: input.itemIds } : {}),
        ...(input.trackingNumber ? { trackingNumber: input.trackingNumber } : {}),
        ...(input.purchasedItemIds ? { purchasedItemIds: input.purchasedItemIds } : {}),
        updatedAt: sql`now()`,
      },
    });
}

/**
 * The current shipping address: other domains read it here instead of touching the orders table,
 * so ops can correct an address and reset.
 */
export async function getShippingAddress(db: Db, orderId: string): Promise<Address | undefined> {
  const [row] = await db.select({ address: orders.address }).from(orders).where(eq(orders.id, orderId));
  return row?.address as Address | undefined;
}

/**
 * Corrects the shipping address of an order (ops, after the WMS rejected it). Warehouse
 * integration reads the address fresh on every attempt, so resetting the failed instruction
 * workflow afterwards ships to the corrected address. Returns false for an unknown order.
 */
export async function correctShippingAddress(db: Db, orderId: string, address: Address): Promise<boolean> {
  const valid = addressSchema.parse(address);
  const rows = await db
    .update(orders)
    .set({ address: valid, updatedAt: sql`now()` })
    .where(eq(orders.id, orderId))
    .returning({ id: orders.id });
  return rows.length > 0;
}

/** The member placing an order: the profile the box defaults to, and whether new boxes are on hold (suspended). */
export async function orderingMember(db: Db, customerId: string) {
  const [row] = await orderingMemberQuery(db).execute({ customerId });
  return row;
}

// Behind every POST /v1/orders: prepared once per database handle.
const orderingMemberQuery = preparedQuery((db) =>
  db
    .select({ size: customers.size, preferredCategories: customers.preferredCategories, address: customers.address, membershipStatus: memberships.status })
    .from(customers)
    .leftJoin(memberships, eq(memberships.customerId, customers.id))
    .where(eq(customers.id, sql.placeholder('customerId')))
    .limit(1)
    .prepare('ordering_customer'),
);
