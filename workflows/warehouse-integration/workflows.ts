/** warehouseInstructionWorkflow: hands a reserved box to the WMS, durably, through outages. */
import { ActivityFailure, ApplicationFailure, CancellationScope, condition, isCancellation, log, proxyActivities } from '@temporalio/workflow';
import type { WarehouseIntegrationActivities } from '../../activities/warehouse-integration';
import { type EventTriggeredInput, isEvent } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { FailureType } from '../failures';
import { InventoryReserved, type InventoryReservedData } from '../inventory/contract';
import { OrderCancelled, type OrderCancelledData } from '../orders/contract';
import { ShipmentShipped } from '../warehouse/contract';
import type { ReturnRequestedData } from '../orders/contract';
import { ShipmentRejected, ShipmentRequested, type ReturnPickupWorkflowResult, type WarehouseInstructionWorkflowResult } from './contract';

const wms = proxyActivities<WarehouseIntegrationActivities>({
  startToCloseTimeout: '30 seconds',
  // No attempt limit: a WMS outage of hours only delays the box. Permanent refusals are typed
  // non-retryable failures and stop the retries at once.
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * Started by inventory.reserved (or by order.cancelled first, as a tombstone). Sends the shipping
 * instruction, cancels it if the order is cancelled before shipment, and fails visibly when the
 * WMS rejects the address so ops can correct it and reset this workflow.
 */
export async function warehouseInstructionWorkflow({
  event: first,
}: EventTriggeredInput<InventoryReservedData | OrderCancelledData>): Promise<WarehouseInstructionWorkflowResult> {
  const inbox = new Inbox(first);
  const orderId = first.correlationId;
  const customerId = first.data.customerId;

  const trigger = await inbox.next([InventoryReserved, OrderCancelled]);
  if (!trigger || !isEvent(trigger, InventoryReserved)) {
    await wms.cancelShippingInstruction({ orderId });
    return { outcome: 'cancelled' };
  }
  const items = trigger.data.items;

  // The send may be retrying through an outage when the order is cancelled: cancel the attempt
  // rather than letting a box ship for a cancelled order.
  const sendScope = new CancellationScope();
  let cancelled = false;
  // Peeks without consuming: the cancel is still taken from the inbox below.
  void condition(() => inbox.has([OrderCancelled])).then(() => {
    cancelled = true;
    sendScope.cancel();
  });
  let instructionId: string;
  try {
    ({ instructionId } = await sendScope.run(() =>
      wms.sendShippingInstruction.executeWithOptions({ summary: `send shipping instruction for ${orderId} (${items.length} items)` }, [
        { orderId, customerId, items: items.map((i) => ({ itemId: i.itemId, sku: i.sku })) },
      ]),
    ));
  } catch (err) {
    if (cancelled && isCancellation(err)) {
      await wms.cancelShippingInstruction({ orderId });
      return { outcome: 'cancelled' };
    }
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === FailureType.AddressRejected) {
      await publish(ShipmentRejected, {
        id: `wms:${orderId}:rejected`,
        data: { orderId, customerId, reason: cause.message },
        correlationId: orderId,
        causedBy: trigger,
      });
      // Fail the workflow (not just the activity) so it shows as Failed in the Web UI; ops fix the
      // address and reset to the first workflow task.
      throw ApplicationFailure.create({ type: FailureType.AddressRejected, message: cause.message, nonRetryable: true });
    }
    throw err;
  }

  await publish(ShipmentRequested, {
    id: `wms:${orderId}:shipment-requested`,
    data: { orderId, customerId, instructionId, items },
    correlationId: orderId,
    causedBy: trigger,
  });

  const next = await inbox.next([OrderCancelled, ShipmentShipped]);
  if (next && isEvent(next, OrderCancelled)) {
    try {
      await wms.cancelShippingInstruction({ orderId });
    } catch (err) {
      // The WMS shipped before the cancel reached it: the box is on its way and the shipment
      // workflow follows it; failing here would only hide that fact.
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === FailureType.AlreadyShipped) {
        log.warn('cancel reached the WMS after shipment', { orderId, instructionId });
        return { outcome: 'handed-over', instructionId };
      }
      throw err;
    }
    return { outcome: 'cancelled', instructionId };
  }
  return { outcome: 'handed-over', instructionId };
}

/**
 * returnPickupWorkflow (`wms-return:<orderId>`): started by return.requested, asks the WMS to
 * collect the box. The WMS later reports `return_arrived` through the webhook.
 */
export async function returnPickupWorkflow({ event }: EventTriggeredInput<ReturnRequestedData>): Promise<ReturnPickupWorkflowResult> {
  const { instructionId } = await wms.requestReturnPickup.executeWithOptions({ summary: `ask the WMS to collect box ${event.data.orderId}` }, [
    { orderId: event.data.orderId },
  ]);
  return { instructionId, status: 'return_requested' };
}
