/**
 * returnWorkflow: one box's rental window, from delivery until every item is restocked, retired,
 * lost or bought. Returns states facts about the items (inspected, lost); inventory moves them
 * (restockWorkflow) and answers with `item.restocked` / `item.retired`.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { condition, log, proxyActivities, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { InventoryActivities, OrderItem } from '../inventory/contract';
import type { ReturnsActivities } from './contract';
import { type EventEnvelope, isEvent } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { INVENTORY_TASK_QUEUE, ItemRestocked, ItemRetired, ItemSold } from '../inventory/contract';
import { PurchaseRequested, ReturnRequested, purchaseRequestedEventId } from '../orders/contract';
import { PaymentFailed } from '../payment/contract';
import { ReturnArrived } from '../warehouse/contract';
import {
  DEFAULT_RETURN_POLICY,
  ItemInspected,
  ItemLost,
  ReturnCompleted,
  ReturnOverdue,
  isDamagedSku,
  returnStateQuery,
  type ReturnState,
  type ReturnWorkflowInput,
  type ReturnWorkflowResult,
} from './contract';

const retry = { initialInterval: '1 second', maximumInterval: '30 seconds' } as const;
/** Inventory's read of a box's items runs on the inventory worker; every item move is inventory's own workflow. */
const { listOrderItems } = proxyActivities<InventoryActivities>({ taskQueue: INVENTORY_TASK_QUEUE, startToCloseTimeout: '15 seconds', retry });
const returns = proxyActivities<ReturnsActivities>({ startToCloseTimeout: '10 seconds', retry });

/** Item states that mean "out with the member (or bought) for this box". */
const OUT_STATES = new Set(['reserved', 'shipped', 'sold']);
const FOLLOWED = [ReturnRequested, ReturnArrived, PurchaseRequested, ItemSold, PaymentFailed, ItemRestocked, ItemRetired];

/**
 * Where one item stands for the return. out: with the member. buying: purchase requested, payment
 * pending. owed: the purchase failed for good, the item is expected back. inspected / lost: returns
 * stated it, inventory is moving it. sold, restocked, retired: settled.
 */
type Fate = 'out' | 'buying' | 'owed' | 'inspected' | 'lost' | 'sold' | 'restocked' | 'retired';
const SETTLED: ReadonlySet<Fate> = new Set(['sold', 'restocked', 'retired']);

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
  const { orderId, customerId } = delivered.data;
  const policy = { ...DEFAULT_RETURN_POLICY, ...input.policy };
  const inbox = new Inbox();
  const deadline = Date.now() + msToNumber(policy.rentalWindow);
  const reminders = policy.reminderOffsets
    .map((offset) => ({ offset, at: deadline + msToNumber(offset.replace(/^\+/, '') as Duration) }))
    .filter((r) => r.at <= deadline)
    .sort((a, b) => a.at - b.at);

  const items: OrderItem[] = (await listOrderItems.executeWithOptions({ summary: `look up the items of box ${orderId}` }, [{ orderId }])).filter((i) =>
    OUT_STATES.has(i.state),
  );
  const fate = new Map<string, Fate>(items.map((i) => [i.itemId, i.state === 'sold' ? 'sold' : 'out']));
  const purchaseRequested = new Set(items.filter((i) => i.state === 'sold').map((i) => i.itemId));
  /** Items the member chose to buy before the box came back: they are not in the box. */
  const keptByMember = new Set<string>();
  const failedPurchase = new Set<string>();
  /** When an owed item is declared lost if the box has not arrived by then. */
  const lostAt = new Map<string, number>();
  const lost = new Set<string>();
  const inspected = new Set<string>();
  /** When each item's purchase was requested, until its outcome (sold or failed) arrives. */
  const buyingSince = new Map<string, number>();
  const stalledPurchases = new Set<string>();
  let arrived = false;
  let arrivalDeadline: number | undefined;
  const ids = (...fates: Fate[]) => items.filter((i) => fates.includes(fate.get(i.itemId)!)).map((i) => i.itemId);

  const state: ReturnState = {
    orderId,
    phase: 'renting',
    deadline: new Date(deadline).toISOString(),
    remindersSent: [],
    itemIds: items.map((i) => i.itemId),
    purchaseRequestedItemIds: [],
    soldItemIds: [],
    failedPurchaseItemIds: [],
    inspectedItemIds: [],
    lostItemIds: [],
    stalledPurchaseItemIds: [],
  };
  setHandler(returnStateQuery, () => ({
    ...state,
    arrivalDeadline: arrivalDeadline === undefined ? undefined : new Date(arrivalDeadline).toISOString(),
    purchaseRequestedItemIds: [...purchaseRequested],
    soldItemIds: ids('sold'),
    failedPurchaseItemIds: [...failedPurchase],
    inspectedItemIds: [...inspected],
    lostItemIds: [...lost],
    stalledPurchaseItemIds: [...stalledPurchases].filter((id) => fate.get(id) === 'buying'),
  }));

  let cause: EventEnvelope = delivered;
  const settled = () => items.every((i) => SETTLED.has(fate.get(i.itemId)!));

  function apply(event: EventEnvelope): void {
    cause = event;
    if (isEvent(event, ReturnRequested)) {
      if (state.phase !== 'renting') return;
      state.phase = 'return_requested';
      arrivalDeadline = Date.now() + msToNumber(policy.arrivalWindow);
    } else if (isEvent(event, ReturnArrived)) {
      arrived = true;
      state.phase = 'inspecting';
    } else if (isEvent(event, PurchaseRequested)) {
      const { itemId } = event.data;
      purchaseRequested.add(itemId);
      if (fate.get(itemId) !== 'out') return log.info('purchase of an item no longer out ignored', { orderId, itemId, fate: fate.get(itemId) });
      fate.set(itemId, 'buying');
      buyingSince.set(itemId, Date.now());
      if (event.data.reason === 'member' && !arrived) keptByMember.add(itemId);
    } else if (isEvent(event, ItemSold)) {
      const { itemId } = event.data;
      purchaseRequested.add(itemId);
      if (['out', 'buying', 'owed'].includes(fate.get(itemId) ?? '')) fate.set(itemId, 'sold');
    } else if (isEvent(event, PaymentFailed)) {
      const itemId = event.data.itemId ?? '';
      if (fate.get(itemId) !== 'buying') return;
      fate.set(itemId, 'owed');
      failedPurchase.add(itemId);
      // Not paid for: the member must send it back with the box, whoever asked to buy it.
      if (!arrived) keptByMember.delete(itemId);
      lostAt.set(itemId, Math.max(Date.now(), deadline) + msToNumber(policy.lostAfter));
    } else if (isEvent(event, ItemRestocked)) {
      if (fate.get(event.data.itemId) === 'inspected') fate.set(event.data.itemId, 'restocked');
    } else if (isEvent(event, ItemRetired)) {
      if (['inspected', 'lost'].includes(fate.get(event.data.itemId) ?? '')) fate.set(event.data.itemId, 'retired');
    }
  }

  /** States what returns now knows: items in an arrived box are inspected, owed items that cannot come back are lost. */
  async function stateFacts(): Promise<void> {
    for (const item of items) {
      const { itemId } = item;
      const f = fate.get(itemId);
      if (arrived && (f === 'out' || (f === 'owed' && !keptByMember.has(itemId)))) {
        const outcome = isDamagedSku(item.sku) ? 'damaged' : 'clean';
        await returns.recordInspection.executeWithOptions({ summary: `record ${itemId} inspected: ${outcome}` }, [{ orderId, itemId, outcome }]);
        fate.set(itemId, 'inspected');
        inspected.add(itemId);
        await publish(ItemInspected, {
          id: `return:${orderId}:${itemId}:inspected`,
          data: { orderId, customerId, itemId, outcome },
          correlationId: orderId,
          causedBy: cause,
        });
      } else if (f === 'owed' && (arrived || Date.now() >= lostAt.get(itemId)!)) {
        fate.set(itemId, 'lost');
        lost.add(itemId);
        const reason = arrived
          ? 'kept by the member, not paid for, and not in the returned box'
          : `not paid for, and the box did not come back within ${String(policy.lostAfter)}`;
        await publish(ItemLost, {
          id: `return:${orderId}:${itemId}:lost`,
          data: { orderId, customerId, itemId, reason },
          correlationId: orderId,
          causedBy: cause,
        });
      }
    }
  }

  /** The box is overdue: the member buys every item still out. */
  async function overdue(reason: string): Promise<void> {
    state.phase = 'overdue';
    const unreturned = ids('out');
    cause = await publish(ReturnOverdue, {
      id: `return:${orderId}:overdue`,
      data: { orderId, customerId, unreturnedItemIds: unreturned, reason },
      correlationId: orderId,
      causedBy: cause,
    });
    const byId = new Map(items.map((i) => [i.itemId, i]));
    for (const itemId of unreturned) {
      fate.set(itemId, 'buying');
      buyingSince.set(itemId, Date.now());
      purchaseRequested.add(itemId);
      await publish(PurchaseRequested, {
        id: purchaseRequestedEventId(orderId, itemId),
        data: { orderId, customerId, itemId, priceCents: byId.get(itemId)!.priceCents, reason: 'overdue' },
        correlationId: orderId,
        causedBy: cause,
      });
    }
  }

  /**
   * The next timer: a reminder or the deadline while renting, the arrival bound, an owed item's
   * loss, a purchase whose payment outcome is overdue (reported stalled, still awaited).
   */
  function nextDue(): { at: number; kind: 'reminder' | 'deadline' | 'arrival' | 'lost' | 'purchase-stalled'; offset?: string; itemId?: string } | undefined {
    const due: { at: number; kind: 'reminder' | 'deadline' | 'arrival' | 'lost' | 'purchase-stalled'; offset?: string; itemId?: string }[] = [];
    for (const itemId of ids('buying')) {
      if (!stalledPurchases.has(itemId))
        due.push({ at: (buyingSince.get(itemId) ?? Date.now()) + msToNumber(policy.purchaseOutcomeBound), kind: 'purchase-stalled', itemId });
    }
    if (state.phase === 'renting') {
      const reminder = reminders.find((r) => !state.remindersSent.includes(r.offset));
      due.push(reminder ? { at: reminder.at, kind: 'reminder', offset: reminder.offset } : { at: deadline, kind: 'deadline' });
    }
    if (state.phase === 'return_requested' && !arrived && arrivalDeadline !== undefined) due.push({ at: arrivalDeadline, kind: 'arrival' });
    if (!arrived) for (const itemId of ids('owed')) due.push({ at: lostAt.get(itemId)!, kind: 'lost' });
    return due.reduce<(typeof due)[number] | undefined>((first, d) => (first === undefined || d.at < first.at ? d : first), undefined);
  }

  while (!settled()) {
    const event = inbox.take(FOLLOWED);
    if (event) {
      apply(event);
      await stateFacts();
      continue;
    }

    // Nothing queued: wait for the next event, or the next timer.
    const due = nextDue();
    if (due === undefined) {
      await condition(() => inbox.has(FOLLOWED));
      continue;
    }
    if (due.at > Date.now() && (await condition(() => inbox.has(FOLLOWED), due.at - Date.now()))) continue;

    if (due.kind === 'reminder') {
      const { sent } = await returns.sendReminder.executeWithOptions({ summary: `remind ${customerId} to return box ${orderId} (${due.offset})` }, [
        { orderId, customerId, offset: due.offset!, deadline: state.deadline },
      ]);
      state.remindersSent.push(due.offset!);
      log.info('reminder due', { orderId, offset: due.offset, sent });
    } else if (due.kind === 'deadline') {
      await overdue('the rental window closed with no return requested');
    } else if (due.kind === 'arrival') {
      await overdue(`a return was requested but the box did not arrive within ${String(policy.arrivalWindow)}`);
    } else if (due.kind === 'purchase-stalled') {
      // Payment always announces an outcome; one this late means payment is stuck. Keep waiting for it.
      stalledPurchases.add(due.itemId!);
      log.warn('purchase outcome overdue', { orderId, itemId: due.itemId, bound: String(policy.purchaseOutcomeBound) });
      setCurrentDetails(
        `**Stalled.** Waiting for the payment outcome of ${[...stalledPurchases].filter((id) => fate.get(id) === 'buying').join(', ')} of box ${orderId}, due within ${String(policy.purchaseOutcomeBound)}. See docs/operations.md, "A workflow is stalled".`,
      );
    } else {
      await stateFacts();
    }
  }

  state.phase = 'completed';
  const result: ReturnWorkflowResult = {
    restockedItemIds: ids('restocked'),
    retiredItemIds: ids('retired').filter((id) => !lost.has(id)),
    purchasedItemIds: ids('sold'),
    lostItemIds: ids('retired').filter((id) => lost.has(id)),
  };
  await publish(ReturnCompleted, { id: `return:${orderId}:completed`, data: { orderId, customerId, ...result }, correlationId: orderId, causedBy: cause });
  return result;
}
