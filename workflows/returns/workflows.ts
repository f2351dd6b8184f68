/**
 * returnWorkflow: one box's rental window, from delivery until every item is restocked, retired,
 * lost or bought. Returns states facts about the items (inspected, lost); inventory moves them
 * (restockWorkflow) and answers with `item.restocked` / `item.retired`. The window's state and
 * moves are its machine (workflows/returns/return-machine.ts), what it follows is its handler
 * table (workflows/returns/return-events.ts); this file runs the loop of events and timers.
 */
import { msToNumber } from '@temporalio/common/lib/time';
import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import { Inbox } from '../bus/publish';
import { INVENTORY_TASK_QUEUE, type InventoryActivities } from '../inventory/contract';
import { DEFAULT_RETURN_POLICY, returnStateQuery, type ReturnWorkflowInput, type ReturnWorkflowResult } from './contract';
import { RETURN_EVENTS } from './return-events';
import { ReturnMachine } from './return-machine';

/** Inventory's read of a box's items runs on the inventory worker; every item move is inventory's own workflow. */
const { listOrderItems } = proxyActivities<InventoryActivities>({
  taskQueue: INVENTORY_TASK_QUEUE,
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Item states that mean "out with the member (or bought) for this box". */
const OUT_STATES = new Set(['reserved', 'shipped', 'sold']);

/**
 * Started by shipment.delivered. Reminders before the deadline (unless a return is requested);
 * the box is overdue at the deadline with no return requested, or when a requested return has not
 * arrived within the arrival window: return.overdue, then purchase.requested for every item still
 * out. The WMS reports boxes, not items: an arriving box holds every item the member did not choose
 * to keep. On return.arrived each such item is inspected (item.inspected) unless its purchase is
 * still pending (then: captured → sold, failed → inspected). An item whose purchase failed for good
 * and that is not in the box — kept by the member, or the box has not arrived `lostAfter` after
 * both the failure and the deadline — is declared lost (item.lost). Completes with
 * return.completed once inventory has restocked or retired, or payment sold, every item.
 */
export async function returnWorkflow(input: ReturnWorkflowInput): Promise<ReturnWorkflowResult> {
  const delivered = input.event;
  const { orderId } = delivered.data;
  const policy = { ...DEFAULT_RETURN_POLICY, ...input.policy };
  const inbox = new Inbox();
  // The window opens when the workflow starts, not when the item read returns.
  const deadline = Date.now() + msToNumber(policy.rentalWindow);
  const items = (await listOrderItems.executeWithOptions({ summary: `look up the items of box ${orderId}` }, [{ orderId }])).filter((i) =>
    OUT_STATES.has(i.state),
  );
  const m = new ReturnMachine(delivered, policy, deadline, items);
  setHandler(returnStateQuery, () => m.view());

  const followed = RETURN_EVENTS.events;
  while (!m.settled) {
    const event = inbox.take(followed);
    if (event) {
      m.cause = event;
      await RETURN_EVENTS.apply(m, event);
      await m.stateFacts();
      continue;
    }

    // Nothing queued: wait for the next event, or the next timer.
    const due = m.nextDue();
    if (due === undefined) {
      await condition(() => inbox.has(followed));
      continue;
    }
    if (due.at > Date.now() && (await condition(() => inbox.has(followed), due.at - Date.now()))) continue;
    await m.fire(due);
  }
  return m.complete();
}
