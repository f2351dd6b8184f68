/**
 * A call that found no workflow for an order (a cancel or a GET right after placing): the order
 * may be accepted and its start still in the outbox (workers/order-start-relay.ts), so the call
 * starts it itself rather than answering 404.
 */
import type { Client } from '@temporalio/client';
import type { Db } from '../../db/client';
import { markOrdersStarted, pendingOrderStart } from '../../store/orders/workflow-starts';
import { OrderWorkflow, orderWorkflowStartSpec } from '../../workflows/orders/contract';
import { startWorkflowOnce } from '../../workflows/workflow-ref';

/** Starts the order's workflow if it was accepted and not started yet: true when it did (the caller retries its call). */
export async function startPendingOrder(db: Db, client: Client, orderId: string): Promise<boolean> {
  const input = await pendingOrderStart(db, orderId);
  if (!input) return false;
  // Already started by the relay meanwhile counts as started: the id is the order's.
  await startWorkflowOnce(client.workflow, OrderWorkflow, input, orderWorkflowStartSpec(input));
  await markOrdersStarted(db, [orderId]);
  return true;
}
