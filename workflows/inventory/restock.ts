/**
 * restockWorkflow (`restock:<orderId>:<itemId>`): inventory takes one item of a box back after
 * returns has dealt with it — inspected (clean or damaged) or declared lost. Inventory owns every
 * move of the item; returns only states facts and follows `item.restocked` / `item.retired`.
 */
import type { Duration } from '@temporalio/common';
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { InventoryActivities, RestockActivities } from './contract';
import { isEvent } from '../bus/contract';
import { publish } from '../bus/publish';
import { ItemInspected, ItemLost } from '../returns/contract';
import { ItemRestocked, ItemRetired, type RestockWorkflowInput, type RestockWorkflowResult } from './contract';

const inventory = proxyActivities<InventoryActivities & RestockActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * item.inspected: shipped → returned, then clean → cleaning → (cleaning time) → available +
 * `item.restocked`, or damaged → retired + `item.retired`. item.lost: shipped → retired +
 * `item.retired` (reason `lost`). The workflow id makes an item's restock run at most once, so a
 * lost item can never also be inspected, nor the other way round.
 */
export async function restockWorkflow(input: RestockWorkflowInput): Promise<RestockWorkflowResult> {
  const { event } = input;
  const { orderId, customerId, itemId } = event.data;
  const retire = async (reason: string) => {
    await publish(ItemRetired, {
      id: `inventory:${orderId}:${itemId}:retired`,
      data: { orderId, customerId, itemId, reason },
      correlationId: orderId,
      causedBy: event,
    });
    return { itemId, outcome: 'retired' as const };
  };

  if (isEvent(event, ItemLost)) {
    // It never came back: written off from the member's hands.
    await inventory.retireLostItem.executeWithOptions({ summary: `write off lost ${itemId} of box ${orderId}` }, [{ orderId, itemId }]);
    return retire('lost');
  }
  if (!isEvent(event, ItemInspected)) throw new Error(`restockWorkflow cannot handle ${event.type}`);

  await inventory.receiveReturnedItems.executeWithOptions({ summary: `receive ${itemId} back from box ${orderId}` }, [{ orderId, itemIds: [itemId] }]);
  if (event.data.outcome === 'damaged') {
    await inventory.retireItem.executeWithOptions({ summary: `retire damaged ${itemId}` }, [{ orderId, itemId }]);
    return retire('damaged on return');
  }
  await inventory.startCleaning.executeWithOptions({ summary: `send ${itemId} to cleaning` }, [{ orderId, itemId }]);
  const cleaningTime =
    input.cleaningTime ?? ((await inventory.cleaningPolicy.executeWithOptions({ summary: 'read the cleaning time' }, [])).cleaningTime as Duration);
  await sleep(cleaningTime);
  await inventory.restockItem.executeWithOptions({ summary: `restock ${itemId}` }, [{ orderId, itemId }]);
  await publish(ItemRestocked, {
    id: `inventory:${orderId}:${itemId}:restocked`,
    data: { orderId, customerId, itemId },
    correlationId: orderId,
    causedBy: event,
  });
  return { itemId, outcome: 'restocked' };
}
