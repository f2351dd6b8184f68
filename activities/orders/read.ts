/** Read functions of the orders read model (`orders.orders`), exported for the API. */
import { and, desc, eq, sql } from 'drizzle-orm';
import { preparedQuery, type Db } from '../../db/client';
import { orders } from '../../db/schema/orders';

export type OrderRow = typeof orders.$inferSelect;

/** An order row plus its exact creation time (microseconds, ISO UTC) for keyset pagination. */
export type ListedOrder = OrderRow & { createdAtKey: string };

/** Position after which a page starts: the last row of the previous page. */
export interface OrderPageKey {
  createdAt: string;
  id: string;
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
