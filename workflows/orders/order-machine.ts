/**
 * The state of one order and every move it makes: what orderWorkflow's updates and followed
 * events do to it (workflows/orders/order-events.ts is the table of events). The workflow function
 * only wires it up (workflows/orders/workflows.ts). Every move issues exactly the commands the
 * earlier closure-based code issued, in the same order: stored histories replay against it
 * (test/workflows/history-gate.test.ts).
 */
import { allHandlersFinished, condition, log, proxyLocalActivities } from '@temporalio/workflow';
import type { EventEnvelope } from '../bus/contract';
import { publish } from '../bus/publish';
import {
  OrderCancelled,
  OrderPlaced,
  PurchaseRequested,
  ReturnRequested,
  purchaseRequestedEventId,
  type OrderActivities,
  type OrderDetail,
  type OrderStatus,
  type OrderWorkflowInput,
  type OrderWorkflowResult,
  type PurchaseItemResult,
} from './contract';

// A local activity: a write to this domain's own tables, run by this worker inside the workflow
// task (no activity task, no extra workflow task), idempotent, so its re-run after a crash is harmless.
const { recordOrderStatus } = proxyLocalActivities<OrderActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Progress rank: an order's status never moves backwards, whatever order events arrive in. */
const RANK: Record<OrderStatus, number> = {
  placed: 0,
  styled: 1,
  reserved: 2,
  awaiting_shipment: 3,
  address_rejected: 3,
  shipped: 4,
  delivered: 5,
  return_requested: 6,
  returned: 7,
  closed: 8,
  cancelled: 9,
};

/**
 * Where a cancel stands. `requested`: the customer's cancel update was accepted, the main loop
 * publishes it next. `awaiting`: `order.cancelled` is out (the customer's or the system's), the
 * order waits for warehouse integration's answer and keeps its status meanwhile. `tooLate` and
 * `cancelled`: the answer is in the read model, so a waiting cancel update may answer.
 */
export type CancelState =
  { kind: 'none' } | { kind: 'requested'; reason: string } | { kind: 'awaiting'; reason: string } | { kind: 'tooLate' } | { kind: 'cancelled' };

/** One order's state machine. */
export class OrderMachine {
  readonly detail: OrderDetail;
  cancel: CancelState = { kind: 'none' };
  /** The member's return request: pending until the main loop has published it. */
  returnRequest: 'pending' | 'done' | undefined;
  /** Member purchases accepted by the update, waiting for the main loop; results by item id. */
  readonly purchasing = new Set<string>();
  readonly purchaseQueue: { itemId: string; priceCents: number }[] = [];
  readonly purchaseResults = new Map<string, PurchaseItemResult>();
  /** The event the order's next publish names as its cause. */
  lastCause!: EventEnvelope;
  /** Set when the order is over: the workflow returns it. */
  result: OrderWorkflowResult | undefined;

  constructor(readonly order: OrderWorkflowInput) {
    this.detail = {
      orderId: order.orderId,
      customerId: order.customerId,
      status: 'placed',
      itemIds: [],
      purchaseRequestedItemIds: [],
      purchasedItemIds: [],
      shipping: order.shipping ?? 'standard',
    };
  }

  /** An item already bought, or being bought. */
  purchaseRequested(itemId: string): boolean {
    return this.detail.purchaseRequestedItemIds!.includes(itemId) || this.purchasing.has(itemId);
  }

  /** The cancel's outcome (cancelled, or too late) is in the read model. */
  get cancelAnswered(): boolean {
    return this.cancel.kind === 'tooLate' || this.cancel.kind === 'cancelled';
  }

  /** Whether the main loop has something to do. */
  get hasWork(): boolean {
    return this.cancel.kind === 'requested' || this.returnRequest === 'pending' || this.purchaseQueue.length > 0;
  }

  /** Moves to `status` (never backwards) and mirrors the order to its read model. */
  async transition(status: OrderStatus, cause: EventEnvelope | undefined, changes: Partial<OrderDetail> = {}): Promise<void> {
    const { detail, order } = this;
    if (RANK[status] < RANK[detail.status] && status !== detail.status) {
      log.info('stale event ignored', { orderId: order.orderId, eventId: cause?.id, status, current: detail.status });
      return;
    }
    Object.assign(detail, changes, { status, lastEventId: cause?.id ?? detail.lastEventId });
    await recordOrderStatus.executeWithOptions({ summary: `order ${order.orderId} is ${status}` }, [
      {
        order,
        status,
        statusReason: detail.statusReason ?? null,
        itemIds: detail.itemIds,
        trackingNumber: detail.trackingNumber ?? null,
        purchasedItemIds: detail.purchasedItemIds,
      },
    ]);
  }

  /** The order's first moves: its read-model row, then `order.placed`. */
  async place(): Promise<EventEnvelope> {
    await this.transition('placed', undefined);
    const placed = await publish(OrderPlaced, { id: `order:${this.order.orderId}:placed`, data: this.order, correlationId: this.order.orderId });
    this.lastCause = placed;
    return placed;
  }

  /**
   * Asks everyone holding something for the box to let go. The order is cancelled only once the
   * WMS side confirms (shipment.cancelled); until then it keeps its status, "cancelling".
   */
  async requestCancel(reason: string, cancelledBy: 'customer' | 'system', cause?: EventEnvelope): Promise<void> {
    const { order, detail } = this;
    // Before the publish: a cancel update arriving meanwhile must already be refused.
    this.cancel = { kind: 'awaiting', reason };
    await publish(OrderCancelled, {
      id: `order:${order.orderId}:cancelled`,
      data: {
        orderId: order.orderId,
        customerId: order.customerId,
        reason,
        cancelledBy,
        ...(detail.status === 'address_rejected' ? { afterShipmentRejected: true } : {}),
      },
      correlationId: order.orderId,
      causedBy: cause,
    });
    await this.transition(detail.status, cause, { statusReason: `cancelling: ${reason}` });
  }

  /** Publishes the member's return request (queued by the update). */
  async publishReturnRequest(): Promise<void> {
    const { order } = this;
    this.lastCause = await publish(ReturnRequested, {
      id: `order:${order.orderId}:return-requested`,
      data: { orderId: order.orderId, customerId: order.customerId, requestedBy: 'member' },
      correlationId: order.orderId,
      causedBy: this.lastCause,
    });
    await this.transition('return_requested', this.lastCause, { statusReason: undefined });
    this.returnRequest = 'done';
  }

  /** Publishes the oldest queued purchase, so purchase.requested is ordered with the order's other events. */
  async publishNextPurchase(): Promise<void> {
    const { order } = this;
    const { itemId, priceCents } = this.purchaseQueue[0]!;
    await publish(PurchaseRequested, {
      id: purchaseRequestedEventId(order.orderId, itemId),
      data: { orderId: order.orderId, customerId: order.customerId, itemId, priceCents, reason: 'member' },
      correlationId: order.orderId,
      causedBy: this.lastCause,
    });
    this.detail.purchaseRequestedItemIds!.push(itemId);
    this.purchaseQueue.shift();
    this.purchaseResults.set(itemId, { itemId, priceCents, status: 'requested' });
  }

  /** The statusReason a milestone keeps while a cancel is on its way, or clears otherwise. */
  cancellingReason(): string | undefined {
    return this.cancel.kind === 'awaiting' ? this.detail.statusReason : undefined;
  }

  /** The cancel came too late: the box is on its way, and the order follows it like any other. */
  cancelTooLate(why: string): void {
    this.detail.cancelRejected = why;
  }

  /** The WMS side confirmed the cancel: the order ends, once a waiting cancel update has answered. */
  async cancelled(event: EventEnvelope<{ reason: string }>): Promise<void> {
    const reason = this.cancel.kind === 'awaiting' ? this.cancel.reason : event.data.reason;
    await this.transition('cancelled', event, { statusReason: reason });
    this.cancel = { kind: 'cancelled' };
    await condition(allHandlersFinished);
    this.result = { status: 'cancelled', reason };
  }

  /** Notes an item as bought (ours, or the overdue path's): it can no longer be bought again. */
  noteBought(itemId: string, sold: boolean): void {
    const { detail } = this;
    if (!detail.purchaseRequestedItemIds!.includes(itemId)) detail.purchaseRequestedItemIds!.push(itemId);
    if (sold && !detail.purchasedItemIds!.includes(itemId)) detail.purchasedItemIds!.push(itemId);
  }
}
