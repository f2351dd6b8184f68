/** shipmentWorkflow: follows the WMS's callbacks for one box and publishes its milestones. */
import { condition, log, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { WarehouseActivities } from './contract';
import type { EventEnvelope } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { ShipmentCancelled, ShipmentRequested } from '../warehouse-integration/contract';
import {
  ReturnArrived,
  returnArrivalSignal,
  type ReturnReceiptInput,
  type ReturnReceiptResult,
  SHIPMENT_MILESTONES,
  SHIPMENT_SLA_MS,
  ShipmentDelayed,
  ShipmentDelivered,
  ShipmentShipped,
  shipmentStateQuery,
  wmsCallbackSignal,
  type ShipmentMilestone,
  type ShipmentState,
  type ShipmentWorkflowInput,
  type ShipmentWorkflowResult,
} from './contract';

// A local activity: a write to this domain's own tables, run by this worker inside the workflow
// task (no activity task, no extra workflow task), idempotent, so its re-run after a crash is harmless.
const { recordShipment } = proxyLocalActivities<WarehouseActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

const rank = (m: ShipmentMilestone): number => SHIPMENT_MILESTONES.indexOf(m);

/**
 * Started by shipment.requested, or by the webhook endpoint with signal-with-start when a WMS
 * callback beats that event. Duplicate callbacks (same callbackId) and stale ones (a milestone
 * already passed) are ignored; a callback that skips ahead moves the shipment forward, and the
 * events in between are still published in order.
 */
export async function shipmentWorkflow(input: ShipmentWorkflowInput): Promise<ShipmentWorkflowResult> {
  const orderId = input.event?.data.orderId ?? input.orderId ?? '';
  const customerId = input.event?.data.customerId ?? input.customerId ?? '';
  const inbox = new Inbox(input.event);
  const state: ShipmentState = { orderId, milestone: 'requested', delayed: false, callbacksApplied: 0, callbacksIgnored: 0 };
  const seenCallbacks = new Set<string>();
  let reported: ShipmentMilestone = 'requested';
  let instructionId = input.event?.data.instructionId;
  let cause: EventEnvelope | undefined = input.event;

  setHandler(shipmentStateQuery, () => state);
  setHandler(wmsCallbackSignal, (cb) => {
    if (seenCallbacks.has(cb.callbackId) || rank(cb.status) <= rank(reported)) {
      state.callbacksIgnored++;
      log.info('WMS callback ignored', { orderId, callbackId: cb.callbackId, status: cb.status, reported });
      return;
    }
    seenCallbacks.add(cb.callbackId);
    state.callbacksApplied++;
    reported = cb.status;
    if (cb.trackingNumber) state.trackingNumber = cb.trackingNumber;
    instructionId ??= cb.instructionId;
  });

  let slaBreached = false;
  void condition(() => rank(reported) >= rank('shipped'), SHIPMENT_SLA_MS).then((metInTime) => {
    slaBreached = !metInTime;
  });

  for (;;) {
    await condition(() => rank(reported) > rank(state.milestone) || (slaBreached && !state.delayed) || inbox.has([ShipmentCancelled, ShipmentRequested]));
    const event = inbox.take([ShipmentRequested, ShipmentCancelled]);
    if (event?.type === ShipmentRequested.type) {
      cause = event;
      instructionId ??= (event as EventEnvelope<{ instructionId: string }>).data.instructionId;
    } else if (event && rank(reported) < rank('shipped')) {
      await recordShipment.executeWithOptions({ summary: `shipment of box ${orderId} cancelled` }, [
        { orderId, customerId, instructionId, milestone: 'cancelled' },
      ]);
      return { milestone: state.milestone, outcome: 'cancelled' };
    }

    if (slaBreached && !state.delayed && rank(reported) < rank('shipped')) {
      state.delayed = true;
      cause = await publish(ShipmentDelayed, {
        id: `shipment:${orderId}:delayed`,
        data: { orderId, customerId, slaMs: SHIPMENT_SLA_MS, milestone: state.milestone },
        correlationId: orderId,
        causedBy: cause,
      });
    }

    if (rank(reported) > rank(state.milestone)) {
      const from = state.milestone;
      state.milestone = reported;
      await recordShipment.executeWithOptions({ summary: `shipment of box ${orderId} ${state.milestone}` }, [
        { orderId, customerId, instructionId, milestone: state.milestone, trackingNumber: state.trackingNumber },
      ]);
      if (rank(from) < rank('shipped') && rank(state.milestone) >= rank('shipped')) {
        cause = await publish(ShipmentShipped, {
          id: `shipment:${orderId}:shipped`,
          data: { orderId, customerId, trackingNumber: state.trackingNumber ?? 'unknown', shippedAt: new Date().toISOString() },
          correlationId: orderId,
          causedBy: cause,
        });
      }
      if ((state.milestone as ShipmentMilestone) === 'delivered') {
        await publish(ShipmentDelivered, {
          id: `shipment:${orderId}:delivered`,
          data: { orderId, customerId, deliveredAt: new Date().toISOString() },
          correlationId: orderId,
          causedBy: cause,
        });
        return { milestone: 'delivered', outcome: 'delivered' };
      }
    }
  }
}

/**
 * returnReceiptWorkflow (`return-receipt:<orderId>`): started by the webhook endpoint with
 * signal-with-start on the WMS `return_arrived` callback, publishes `return.arrived` once and
 * ends. Duplicate callbacks signal it while it runs (ignored) or are refused by
 * REJECT_DUPLICATE once it has closed.
 */
export async function returnReceiptWorkflow(input: ReturnReceiptInput): Promise<ReturnReceiptResult> {
  setHandler(returnArrivalSignal, (cb) => log.info('duplicate return_arrived callback ignored', { orderId: input.orderId, callbackId: cb.callbackId }));
  const event = await publish(ReturnArrived, {
    id: `warehouse:${input.orderId}:return-arrived`,
    data: { orderId: input.orderId, customerId: input.customerId, instructionId: input.instructionId },
    correlationId: input.orderId,
  });
  return { published: event.id };
}
