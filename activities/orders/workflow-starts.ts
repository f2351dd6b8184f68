/**
 * Accepting an order without waiting on Temporal: a transactional outbox
 * (`orders.workflow_starts`).
 *
 * - The API's `acceptOrder` writes the order's read-model row and its start request in one
 *   statement; once it commits the order is accepted (POST answers 202). The API then wakes the
 *   relay with a `NOTIFY` of its own (`createOrderStartWaker`), after the commit and coalesced.
 * - The relay (`createOrderStartRelay`, run by the orders worker) claims pending rows and starts
 *   their orderWorkflows, woken by the notification and by a poll, so it also catches up after
 *   its own restart or a Temporal outage (failed rows back off, 1 s doubling to 60 s).
 * - `startPendingOrder` lets a call that finds no workflow yet (a cancel right after placing)
 *   start it itself.
 *
 * Starting twice is harmless: the workflow id is the order's, and a second start is refused
 * (REJECT_DUPLICATE also keeps a finished order's workflow from running again), which counts as
 * started. Relays on several workers take different rows (SKIP LOCKED).
 *
 * Why: a start is a write on the Temporal cluster, which also carries every workflow task of every
 * box in flight, and costs the caller ~3 ms of CPU. Under a burst of orders the cluster falls
 * behind; the member's answer depends on our database only, and the backlog drains at the
 * cluster's pace in a background process.
 */
import { ROOT_CONTEXT, context, propagation } from '@opentelemetry/api';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database, Db } from '../../db/client';
import { orderWorkflowStarts, orders } from '../../db/schema/orders';
import { OrderWorkflow, orderWorkflowId, type OrderWorkflowInput } from '../../workflows/orders/contract';
import { startWorkflow } from '../../workflows/workflow-ref';
import { boxSearchAttributes } from '../../workflows/search-attributes';

/** The PostgreSQL channel acceptOrder notifies and the relay listens on. */
export const ORDER_STARTS_CHANNEL = 'orders_workflow_starts';
/** How long a relay owns the rows it claimed before another may take them. */
const CLAIM_SECONDS = 30;

/**
 * Writes the order row (status placed) and its start request in one statement. `created` is
 * false when the order already existed: a keyed retry, never moved back to placed. With `claim`
 * (an insert returning a row when the caller may go ahead, e.g. the API's Idempotency-Key claim)
 * it is part of the same statement and nothing is written when it returns no row: `claimed` is
 * then false.
 */
export async function acceptOrder(db: Db, order: OrderWorkflowInput, claim?: SQL): Promise<{ claimed: boolean; created: boolean }> {
  // The span context of the request travels with the row, so the workflow joins the request's trace.
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const [row] = (await db.execute<{ claimed: boolean; created: boolean }>(sql`
    with claim as (${claim ?? sql`select true`}),
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

/** Starts one order's workflow; an already started (or finished) one counts as started. */
export async function startOrderWorkflow(client: Client, input: OrderWorkflowInput): Promise<void> {
  try {
    await startWorkflow(client.workflow, OrderWorkflow, input, {
      workflowId: orderWorkflowId(input.orderId),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: boxSearchAttributes(input.orderId, input.customerId),
      staticSummary: `Box ${input.orderId} for ${input.customerId} — ${input.itemCount} items, size ${input.size}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * For a call that found no workflow for an order: starts it now if it was accepted and not
 * started yet. True when it did (the caller retries its call); false when there is nothing to start.
 */
export async function startPendingOrder(db: Db, client: Client, orderId: string): Promise<boolean> {
  const [row] = await db.select().from(orderWorkflowStarts).where(eq(orderWorkflowStarts.orderId, orderId)).limit(1);
  if (!row || row.startedAt) return false;
  await startOrderWorkflow(client, row.input);
  await markStarted(db, [orderId]);
  return true;
}

async function markStarted(db: Db, orderIds: string[]): Promise<void> {
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

/** Starts accepted orders' workflows from the outbox (see the module comment). */
export interface OrderStartRelay {
  /** Claims one batch of pending rows and starts them; how many it started. */
  sweep(): Promise<number>;
  /** Deletes one batch of rows started more than `keepStartedHours` ago; how many it deleted. */
  prune(): Promise<number>;
  /** Listens and sweeps until stop(), which waits for the sweep in progress; prunes now and then. */
  run(): { stop(): Promise<void> };
}

interface ClaimedRow {
  order_id: string;
  input: OrderWorkflowInput;
  trace_context: Record<string, string> | null;
  attempts: number;
}

export function createOrderStartRelay({
  database,
  client,
  log,
  batchSize = 100,
  concurrency = 8,
  pollMs = 1000,
  startTimeoutMs = 10_000,
  keepStartedHours = 7 * 24,
  pruneEveryMs = 10 * 60_000,
}: {
  database: Database;
  client: Client;
  log: Logger;
  batchSize?: number;
  /** Starts in flight at once. */
  concurrency?: number;
  /** Sweep at least this often (rows that backed off, notifications missed while disconnected). */
  pollMs?: number;
  /** A start not answered by then counts as failed (Temporal unreachable): the row backs off. */
  startTimeoutMs?: number;
  /**
   * A started row is kept this long, then deleted: once started, the workflow id (the order's)
   * keeps a second start out, so the row only serves an operator looking at recent starts.
   */
  keepStartedHours?: number;
  pruneEveryMs?: number;
}): OrderStartRelay {
  const { db, sql: pg } = database;

  async function startRow(row: ClaimedRow): Promise<boolean> {
    try {
      const parent = row.trace_context ? propagation.extract(ROOT_CONTEXT, row.trace_context) : ROOT_CONTEXT;
      await context.with(parent, () => client.withDeadline(Date.now() + startTimeoutMs, () => startOrderWorkflow(client, row.input)));
      return true;
    } catch (err) {
      log.warn({ err, orderId: row.order_id, attempts: row.attempts }, 'order workflow not started; the relay retries');
      const backoffMs = Math.min(60_000, 1000 * 2 ** Math.max(0, row.attempts - 1));
      await db
        .update(orderWorkflowStarts)
        .set({ lastError: String((err as Error)?.message ?? err).slice(0, 1000), claimedUntil: sql`now() + ${`${backoffMs} milliseconds`}::interval` })
        .where(eq(orderWorkflowStarts.orderId, row.order_id))
        .catch((e: unknown) => log.error({ err: e, orderId: row.order_id }, 'could not record a failed order workflow start'));
      return false;
    }
  }

  const relay: OrderStartRelay = {
    async sweep() {
      // Oldest first; SKIP LOCKED so relays on several workers take different rows.
      const claimed = await pg<ClaimedRow[]>`
        update orders.workflow_starts set claimed_until = now() + ${`${CLAIM_SECONDS} seconds`}::interval, attempts = attempts + 1
        where order_id in (
          select order_id from orders.workflow_starts
          where started_at is null and (claimed_until is null or claimed_until < now())
          order by accepted_at limit ${batchSize}
          for update skip locked)
        returning order_id, input, trace_context, attempts`;
      if (claimed.length === 0) return 0;
      const started: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, claimed.length) }, async () => {
          while (next < claimed.length) {
            const row = claimed[next++]!;
            if (await startRow(row)) started.push(row.order_id);
          }
        }),
      );
      if (started.length > 0) await markStarted(db, started);
      log.debug({ claimed: claimed.length, started: started.length }, 'order workflows started from the outbox');
      return started.length;
    },

    async prune() {
      const deleted = await pg`
        delete from orders.workflow_starts where order_id in (
          select order_id from orders.workflow_starts
          where started_at < now() - ${`${keepStartedHours} hours`}::interval
          limit ${batchSize * 10})`;
      if (deleted.count > 0) log.info({ deleted: deleted.count, keepStartedHours }, 'pruned started order workflow starts');
      return deleted.count;
    },

    run() {
      let stopped = false;
      let prunedAt = 0;
      let notified = false;
      let wake: (() => void) | undefined;
      const wakeUp = (): void => {
        notified = true;
        wake?.();
      };
      const listening = pg.listen(ORDER_STARTS_CHANNEL, wakeUp).catch((err: unknown) => {
        log.warn({ err }, 'could not listen for accepted orders; polling only');
        return undefined;
      });
      const loop = (async () => {
        while (!stopped) {
          let started = 0;
          notified = false;
          try {
            started = await relay.sweep();
          } catch (err) {
            log.warn({ err }, 'order start sweep failed; the next one retries');
          }
          if (Date.now() - prunedAt >= pruneEveryMs) {
            prunedAt = Date.now();
            await relay.prune().catch((err: unknown) => log.warn({ err }, 'could not prune started order workflow starts; the next round retries'));
          }
          // A full batch, or orders accepted during the sweep: go again at once.
          if (started >= batchSize || notified || stopped) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      })();
      return {
        async stop() {
          stopped = true;
          wakeUp();
          await loop;
          await (await listening)?.unlisten().catch(() => undefined);
        },
      };
    },
  };
  return relay;
}
