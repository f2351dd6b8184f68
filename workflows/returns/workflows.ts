/**
 * returnWorkflow: one box's rental window, from delivery to every item being restocked, retired or
 * bought; inspectItemWorkflow: one returned item, a child of the return.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { condition, executeChild, log, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { InventoryActivities, OrderItem } from '../../activities/inventory';
import type { ReturnsActivities } from '../../activities/returns';
import { type EventEnvelope, isEvent } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { INVENTORY_TASK_QUEUE, ItemRestocked, ItemRetired, ItemSold } from '../inventory/contract';
import { PurchaseRequested, ReturnRequested, purchaseRequestedEventId } from '../orders/contract';
import { ReturnArrived } from '../warehouse/contract';
import {
  DEFAULT_RETURN_POLICY,
  RETURNS_TASK_QUEUE,
  ReturnCompleted,
  ReturnOverdue,
  inspectItemWorkflowId,
  isDamagedSku,
  returnStateQuery,
  type InspectItemInput,
  type InspectItemResult,
  type ReturnState,
  type ReturnWorkflowInput,
  type ReturnWorkflowResult,
} from './contract';

const retry = { initialInterval: '1 second', maximumInterval: '30 seconds' } as const;
/** Inventory owns the items: its activities run on the inventory worker. */
const inventory = proxyActivities<InventoryActivities>({ taskQueue: INVENTORY_TASK_QUEUE, startToCloseTimeout: '15 seconds', retry });
const returns = proxyActivities<ReturnsActivities>({ startToCloseTimeout: '10 seconds', retry });

/** Item states that mean "out with the member (or bought) for this box". */
const OUT_STATES = new Set(['reserved', 'shipped', 'sold']);
const FOLLOWED = [ReturnRequested, ReturnArrived, PurchaseRequested, ItemSold];

/**
 * Started by shipment.delivered. Sends reminders before the deadline (unless a return is
 * requested), declares the box overdue at the deadline and asks to buy every item still out; on
 * return.arrived inspects every returned item in a child workflow. Completes with
 * return.completed once every item is restocked, retired or sold.
 */
export async function returnWorkflow(input: ReturnWorkflowInput): Promise<ReturnWorkflowResult> {
  const delivered = input.event;
  const { orderId, customerId } = delivered.data;
  const deployed = await returns.returnPolicy();
  const policy = { ...DEFAULT_RETURN_POLICY, ...(deployed.cleaningTime ? { cleaningTime: deployed.cleaningTime as Duration } : {}), ...input.policy };
  const inbox = new Inbox();
  const deadline = Date.now() + msToNumber(policy.rentalWindow);
  const reminders = policy.reminderOffsets
    .map((offset) => ({ offset, at: deadline + msToNumber(offset.replace(/^\+/, '') as Duration) }))
    .filter((r) => r.at <= deadline)
    .sort((a, b) => a.at - b.at);

  const items: OrderItem[] = (await inventory.listOrderItems({ orderId })).filter((i) => OUT_STATES.has(i.state));
  const purchaseRequested = new Set(items.filter((i) => i.state === 'sold').map((i) => i.itemId));
  const sold = new Set(purchaseRequested);
  const restocked: string[] = [];
  const retired: string[] = [];
  const state: ReturnState = {
    orderId,
    phase: 'renting',
    deadline: new Date(deadline).toISOString(),
    remindersSent: [],
    itemIds: items.map((i) => i.itemId),
    purchaseRequestedItemIds: [],
    soldItemIds: [],
  };
  setHandler(returnStateQuery, () => ({ ...state, purchaseRequestedItemIds: [...purchaseRequested], soldItemIds: [...sold] }));

  let cause: EventEnvelope = delivered;
  let inspected = false;
  const settled = () => items.every((i) => sold.has(i.itemId) || restocked.includes(i.itemId) || retired.includes(i.itemId));

  while (!settled()) {
    const event = inbox.take(FOLLOWED);
    if (event) {
      if (isEvent(event, ReturnRequested)) {
        if (state.phase === 'renting') state.phase = 'return_requested';
        cause = event;
      } else if (isEvent(event, PurchaseRequested)) {
        purchaseRequested.add(event.data.itemId);
      } else if (isEvent(event, ItemSold)) {
        purchaseRequested.add(event.data.itemId);
        sold.add(event.data.itemId);
      } else if (isEvent(event, ReturnArrived) && !inspected) {
        inspected = true;
        state.phase = 'inspecting';
        cause = event;
        // Items being bought stay with the member: they are not part of the return.
        const back = items.filter((i) => !purchaseRequested.has(i.itemId));
        await inventory.receiveReturnedItems({ orderId, itemIds: back.map((i) => i.itemId) });
        const results = await Promise.all(
          back.map((item) =>
            executeChild(inspectItemWorkflow, {
              workflowId: inspectItemWorkflowId(orderId, item.itemId),
              taskQueue: RETURNS_TASK_QUEUE,
              args: [{ orderId, customerId, itemId: item.itemId, sku: item.sku, cleaningTime: policy.cleaningTime, cause: event }],
              typedSearchAttributes: workflowInfo().typedSearchAttributes,
              staticSummary: `Inspect ${item.itemId} (${item.sku}) of box ${orderId}`,
            }),
          ),
        );
        for (const r of results) (r.outcome === 'restocked' ? restocked : retired).push(r.itemId);
      }
      continue;
    }

    // Nothing queued: wait for the next event, or the next reminder / the deadline while the box is out.
    const timers = state.phase === 'renting';
    const reminder = timers ? reminders.find((r) => !state.remindersSent.includes(r.offset)) : undefined;
    const dueAt = timers ? (reminder?.at ?? deadline) : undefined;
    if (dueAt === undefined) {
      await condition(() => inbox.has(FOLLOWED));
      continue;
    }
    if (dueAt > Date.now() && (await condition(() => inbox.has(FOLLOWED), dueAt - Date.now()))) continue;

    if (reminder) {
      const { sent } = await returns.sendReminder({ orderId, customerId, offset: reminder.offset, deadline: state.deadline });
      state.remindersSent.push(reminder.offset);
      log.info('reminder due', { orderId, offset: reminder.offset, sent });
      continue;
    }
    // The deadline passed with no return requested: the member buys what they kept.
    state.phase = 'overdue';
    const unreturned = items.filter((i) => !purchaseRequested.has(i.itemId));
    cause = await publish(ReturnOverdue, {
      id: `return:${orderId}:overdue`,
      data: { orderId, customerId, unreturnedItemIds: unreturned.map((i) => i.itemId) },
      correlationId: orderId,
      causedBy: cause,
    });
    for (const item of unreturned) {
      purchaseRequested.add(item.itemId);
      await publish(PurchaseRequested, {
        id: purchaseRequestedEventId(orderId, item.itemId),
        data: { orderId, customerId, itemId: item.itemId, priceCents: item.priceCents, reason: 'overdue' },
        correlationId: orderId,
        causedBy: cause,
      });
    }
  }

  state.phase = 'completed';
  const result: ReturnWorkflowResult = { restockedItemIds: restocked, retiredItemIds: retired, purchasedItemIds: items.filter((i) => sold.has(i.itemId)).map((i) => i.itemId) };
  await publish(ReturnCompleted, { id: `return:${orderId}:completed`, data: { orderId, customerId, ...result }, correlationId: orderId, causedBy: cause });
  return result;
}

/**
 * Inspects one returned item (rule: {@link isDamagedSku}). Clean: cleaning, then back in stock
 * (`item.restocked`). Damaged: retired (`item.retired`).
 */
export async function inspectItemWorkflow(input: InspectItemInput): Promise<InspectItemResult> {
  const { orderId, customerId, itemId } = input;
  const damaged = isDamagedSku(input.sku);
  await returns.recordInspection({ orderId, itemId, outcome: damaged ? 'damaged' : 'clean' });
  if (damaged) {
    await inventory.retireItem({ orderId, itemId });
    await publish(ItemRetired, {
      id: `inventory:${orderId}:${itemId}:retired`,
      data: { orderId, customerId, itemId, reason: 'damaged on return' },
      correlationId: orderId,
      causedBy: input.cause,
    });
    return { itemId, outcome: 'retired' };
  }
  await inventory.startCleaning({ orderId, itemId });
  await sleep(input.cleaningTime);
  await inventory.restockItem({ orderId, itemId });
  await publish(ItemRestocked, {
    id: `inventory:${orderId}:${itemId}:restocked`,
    data: { orderId, customerId, itemId },
    correlationId: orderId,
    causedBy: input.cause,
  });
  return { itemId, outcome: 'restocked' };
}
