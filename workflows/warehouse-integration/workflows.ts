/** warehouseInstructionWorkflow: hands a reserved box to the WMS, durably, through outages. */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
} from '@temporalio/workflow';
import type { WarehouseIntegrationActivities } from './contract';
import { type EventEnvelope, type EventTriggeredInput, isEvent } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { FailureType } from '../failures';
import { InventoryReserved, type InventoryReservedData } from '../inventory/contract';
import { OrderCancelled, type OrderCancelledData } from '../orders/contract';
import { ShipmentShipped } from '../warehouse/contract';
import type { ReturnRequestedData } from '../orders/contract';
import {
  ShipmentCancelRejected,
  ShipmentCancelled,
  ShipmentRejected,
  ShipmentRequested,
  type ReturnPickupWorkflowResult,
  type WarehouseInstructionWorkflowResult,
} from './contract';

const wms = proxyActivities<WarehouseIntegrationActivities>({
  startToCloseTimeout: '30 seconds',
  // No attempt limit: a WMS outage of hours only delays the box. Permanent refusals are typed
  // non-retryable failures and stop the retries at once.
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * Started by inventory.reserved (or by order.cancelled first, as a tombstone). Sends the shipping
 * instruction, cancels it if the order is cancelled before shipment, and fails visibly when the
 * WMS rejects the address so ops can correct it and reset this workflow. Every cancel ends in one
 * announced outcome: `shipment.cancelled` (confirmed by the WMS, or nothing was ever sent) or
 * `shipment.cancel_rejected` (the box had already left).
 */
export async function warehouseInstructionWorkflow({
  event: first,
}: EventTriggeredInput<InventoryReservedData | OrderCancelledData>): Promise<WarehouseInstructionWorkflowResult> {
  const inbox = new Inbox(first);
  const orderId = first.correlationId;
  const customerId = first.data.customerId;

  /** Cancels at the WMS and announces the outcome; the WMS's 409 means the box is on its way. */
  async function cancelAtWms(cancel: EventEnvelope<OrderCancelledData>): Promise<WarehouseInstructionWorkflowResult> {
    const { outcome, instructionId } = await wms.cancelShippingInstruction.executeWithOptions({ summary: `cancel the WMS instruction of ${orderId}` }, [
      { orderId },
    ]);
    if (outcome === 'already-shipped') {
      // The WMS shipped before the cancel reached it: say so, so the order follows the box and
      // nobody releases its items or refunds it.
      log.warn('cancel reached the WMS after shipment', { orderId, instructionId });
      await publish(ShipmentCancelRejected, {
        id: `wms:${orderId}:cancel-rejected`,
        data: { orderId, customerId, instructionId: instructionId ?? 'unknown', reason: 'the box had already left the warehouse when the cancel reached it' },
        correlationId: orderId,
        causedBy: cancel,
      });
      return { outcome: 'handed-over', instructionId };
    }
    await publish(ShipmentCancelled, {
      id: `wms:${orderId}:cancelled`,
      data: { orderId, customerId, reason: cancel.data.reason, instructionCancelled: outcome === 'cancelled' },
      correlationId: orderId,
      causedBy: cancel,
    });
    return { outcome: 'cancelled' };
  }

  const trigger = await inbox.next([InventoryReserved, OrderCancelled]);
  if (!trigger || !isEvent(trigger, InventoryReserved)) return cancelAtWms(trigger as EventEnvelope<OrderCancelledData>);
  const items = trigger.data.items;

  // The send may be retrying through an outage when the order is cancelled: cancel the attempt
  // rather than letting a box ship for a cancelled order. WAIT_CANCELLATION_COMPLETED: an attempt
  // already talking to the WMS finishes first, so the cancel below sees an instruction it accepted.
  const sendScope = new CancellationScope();
  let cancelled = false;
  // Peeks without consuming: the cancel is still taken from the inbox below.
  void condition(() => inbox.has([OrderCancelled])).then(() => {
    cancelled = true;
    sendScope.cancel();
  });
  let instructionId: string | undefined;
  try {
    ({ instructionId } = await sendScope.run(() =>
      wms.sendShippingInstruction.executeWithOptions(
        { summary: `send shipping instruction for ${orderId} (${items.length} items)`, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED },
        [{ orderId, customerId, items: items.map((i) => ({ itemId: i.itemId, sku: i.sku })) }],
      ),
    ));
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (!cancelled && cause instanceof ApplicationFailure && cause.type === FailureType.AddressRejected) {
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
    if (!(cancelled && (isCancellation(err) || err instanceof ActivityFailure))) throw err;
  }
  if (cancelled || instructionId === undefined) {
    return cancelAtWms((await inbox.next([OrderCancelled])) as EventEnvelope<OrderCancelledData>);
  }

  await publish(ShipmentRequested, {
    id: `wms:${orderId}:shipment-requested`,
    data: { orderId, customerId, instructionId, items },
    correlationId: orderId,
    causedBy: trigger,
  });

  const next = await inbox.next([OrderCancelled, ShipmentShipped]);
  if (next && isEvent(next, OrderCancelled)) return cancelAtWms(next);
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
