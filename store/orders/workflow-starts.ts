/**
 * The orders outbox (`orders.workflow_starts`): an accepted order's start request, written with
 * its read-model row in one statement, and what the relay (workers/order-start-relay.ts) claims,
 * marks started, backs off and prunes. Why an outbox at all: the module comment of the relay.
 */
import { context, propagation } from '@opentelemetry/api';
import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import { orderWorkflowStarts, orders } from '../../db/schema/orders';
import type { OrderWorkflowInput } from '../../workflows/orders/contract';
import { claimKeySql, type AnsweredClaim } from '../api/idempotency-keys';

/** The PostgreSQL channel acceptOrder's waker notifies and the relay listens on. */
export const ORDER_STARTS_CHANNEL = 'orders_workflow_starts';

/**
 * Writes the order row (status placed) and its start request in one statement. `created` is
 * false when the order already existed: a keyed retry, never moved back to placed. With `claim`
 * (the request's Idempotency-Key and the answer it will give) the key is taken in the same
 * statement and nothing is written when someone else holds it: `claimed` is then false.
 */
export async function acceptOrder(db: Db, order: OrderWorkflowInput, claim?: AnsweredClaim): Promise<{ claimed: boolean; created: boolean }> {
  // The span context of the request travels with the row, so the workflow joins the request's trace.
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  // One statement (CTEs), so the key, the order and its start request commit together or not at all.
  const [row] = (await db.execute<{ claimed: boolean; created: boolean }>(sql`
    with claim as (${claim ? claimKeySql(claim.request, claim.answer) : sql`select true`}),
    inserted as (
      insert into ${orders} (id, customer_id, status, size, categories, item_count, address)
      select ${order.orderId}, ${order.customerId}, 'placed', ${order.size}, ${JSON.stringify(order.categories)}::jsonb, ${order.itemCount}, ${JSON.stringify(order.address)}::jsonb
      where exists (select from claim)
      on conflict (id) do nothing
      returning id
    ), requested as (
      insert into ${orderWorkflowStarts} (order_id, input, trace_context)
      select id, ${JSON.stringify(order)}::jsonb, ${Object.keys(carrier).length > 0 ? JSON.stringify(carrier) : null}::jsonb from inserted
      on conflict (order_id) do nothing
    )
    select exists (select from claim) as claimed, exists (select from inserted) as created
  `)) as unknown as { claimed: boolean; created: boolean }[];
  return { claimed: !!row?.claimed, created: !!row?.created };
}

/**
 * Wakes the relay after orders were accepted: `wake()` returns at once; one `NOTIFY` is in flight
 * at a time and the wakes that arrive meanwhile are folded into one more. Not part of the
 * accepting statement on purpose: a transaction that notifies takes a database-wide lock at commit
 * and holds it through its WAL flush, so every order's commit would queue behind the others' instead
 * of sharing one flush. A lost wake only costs latency: the relay also polls.
 */
export function createOrderStartWaker(db: Db, log: Logger): () => void {
  let inFlight = false;
  let again = false;
  const send = (): void => {
    inFlight = true;
    again = false;
    db.execute(sql`select pg_notify(${ORDER_STARTS_CHANNEL}, '')`)
      .then(
        () => undefined,
        (err: unknown) => log.warn({ err }, 'could not wake the order start relay; it will find the order on its next poll'),
      )
      .finally(() => {
        inFlight = false;
        if (again) send();
      });
  };
  return () => {
    if (inFlight) again = true;
    else send();
  };
}

/** The start request of an order accepted and not started yet; undefined when there is none. */
export async function pendingOrderStart(db: Db, orderId: string): Promise<OrderWorkflowInput | undefined> {
  const [row] = await db.select().from(orderWorkflowStarts).where(eq(orderWorkflowStarts.orderId, orderId)).limit(1);
  return row && !row.startedAt ? row.input : undefined;
}

/** Marks orders' workflows started. */
export async function markOrdersStarted(db: Db, orderIds: string[]): Promise<void> {
  await db
    .update(orderWorkflowStarts)
    .set({ startedAt: sql`now()`, claimedUntil: null, lastError: null })
    .where(inArray(orderWorkflowStarts.orderId, orderIds));
}

/** Orders accepted and not started yet, and the age of the oldest (for /metrics). */
export async function orderStartBacklog(db: Db): Promise<{ pending: number; oldestAgeSeconds: number }> {
  const [row] = await db
    .select({
      pending: sql<number>`count(*)::int`,
      oldestAgeSeconds: sql<number>`coalesce(extract(epoch from now() - min(${orderWorkflowStarts.acceptedAt})), 0)::float8`,
    })
    .from(orderWorkflowStarts)
    .where(isNull(orderWorkflowStarts.startedAt));
  return { pending: row?.pending ?? 0, oldestAgeSeconds: row?.oldestAgeSeconds ?? 0 };
}

/** A start request a relay has claimed. */
export interface ClaimedOrderStart {
  orderId: string;
  input: OrderWorkflowInput;
  traceContext: Record<string, string> | null;
  attempts: number;
}

/**
 * Claims up to `limit` pending start requests, oldest first, for `claimSeconds`, counting the
 * attempt. SKIP LOCKED: relays on several workers take different rows.
 */
export async function claimOrderStarts(db: Db, { limit, claimSeconds }: { limit: number; claimSeconds: number }): Promise<ClaimedOrderStart[]> {
  const t = orderWorkflowStarts;
  const claimable = db
    .select({ orderId: t.orderId })
    .from(t)
    .where(and(isNull(t.startedAt), or(isNull(t.claimedUntil), lt(t.claimedUntil, sql`now()`))))
    .orderBy(asc(t.acceptedAt))
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(t)
    .set({ claimedUntil: sql`now() + ${`${claimSeconds} seconds`}::interval`, attempts: sql`${t.attempts} + 1` })
    .where(inArray(t.orderId, claimable))
    .returning({ orderId: t.orderId, input: t.input, traceContext: t.traceContext, attempts: t.attempts });
}

/** A start that failed: the error, and no new claim before `backoffMs`. */
export async function recordOrderStartFailure(db: Db, orderId: string, error: string, backoffMs: number): Promise<void> {
  await db
    .update(orderWorkflowStarts)
    .set({ lastError: error.slice(0, 1000), claimedUntil: sql`now() + ${`${backoffMs} milliseconds`}::interval` })
    .where(eq(orderWorkflowStarts.orderId, orderId));
}

/** Deletes up to `limit` rows started more than `keepHours` ago; how many it deleted. */
export async function pruneStartedOrderStarts(db: Db, { keepHours, limit }: { keepHours: number; limit: number }): Promise<number> {
  const t = orderWorkflowStarts;
  const old = db
    .select({ orderId: t.orderId })
    .from(t)
    .where(lt(t.startedAt, sql`now() - ${`${keepHours} hours`}::interval`))
    .limit(limit);
  const deleted = await db.delete(t).where(inArray(t.orderId, old)).returning({ orderId: t.orderId });
  return deleted.length;
}
