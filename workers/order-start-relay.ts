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
 * - A call that finds no workflow yet (a cancel right after placing) starts it itself
 *   (api/orders/pending-start.ts).
 * - The outbox's rows are read and written by store/orders/workflow-starts.ts.
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
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Database } from '../db/client';
import {
  ORDER_STARTS_CHANNEL,
  claimOrderStarts,
  markOrdersStarted,
  pruneStartedOrderStarts,
  recordOrderStartFailure,
  type ClaimedOrderStart,
} from '../store/orders/workflow-starts';
import { OrderWorkflow, orderWorkflowStartSpec } from '../workflows/orders/contract';
import { startWorkflowOnce } from '../workflows/workflow-ref';
/** How long a relay owns the rows it claimed before another may take them. */
const CLAIM_SECONDS = 30;

/** Starts accepted orders' workflows from the outbox (see the module comment). */
export interface OrderStartRelay {
  /** Claims one batch of pending rows and starts them; how many it started. */
  sweep(): Promise<number>;
  /** Deletes one batch of rows started more than `keepStartedHours` ago; how many it deleted. */
  prune(): Promise<number>;
  /** Listens and sweeps until stop(), which waits for the sweep in progress; prunes now and then. */
  run(): { stop(): Promise<void> };
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
  // The raw driver only for LISTEN: it holds a connection of its own, which drizzle has no word for.
  const { db, sql: pg } = database;

  async function startRow(row: ClaimedOrderStart): Promise<boolean> {
    try {
      const parent = row.traceContext ? propagation.extract(ROOT_CONTEXT, row.traceContext) : ROOT_CONTEXT;
      await context.with(parent, () =>
        client.withDeadline(Date.now() + startTimeoutMs, () => startWorkflowOnce(client.workflow, OrderWorkflow, row.input, orderWorkflowStartSpec(row.input))),
      );
      return true;
    } catch (err) {
      log.warn({ err, orderId: row.orderId, attempts: row.attempts }, 'order workflow not started; the relay retries');
      const backoffMs = Math.min(60_000, 1000 * 2 ** Math.max(0, row.attempts - 1));
      await recordOrderStartFailure(db, row.orderId, String((err as Error)?.message ?? err), backoffMs).catch((e: unknown) =>
        log.error({ err: e, orderId: row.orderId }, 'could not record a failed order workflow start'),
      );
      return false;
    }
  }

  const relay: OrderStartRelay = {
    async sweep() {
      const claimed = await claimOrderStarts(db, { limit: batchSize, claimSeconds: CLAIM_SECONDS });
      if (claimed.length === 0) return 0;
      const started: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, claimed.length) }, async () => {
          while (next < claimed.length) {
            const row = claimed[next++]!;
            if (await startRow(row)) started.push(row.orderId);
          }
        }),
      );
      if (started.length > 0) await markOrdersStarted(db, started);
      log.debug({ claimed: claimed.length, started: started.length }, 'order workflows started from the outbox');
      return started.length;
    },

    async prune() {
      const deleted = await pruneStartedOrderStarts(db, { keepHours: keepStartedHours, limit: batchSize * 10 });
      if (deleted > 0) log.info({ deleted, keepStartedHours }, 'pruned started order workflow starts');
      return deleted;
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
