/**
 * What an order follows and what each event does to it: the one table from which the orders
 * subscriptions (workflows/orders/subscriptions.ts) and orderWorkflow's inbox filter are derived.
 * In the order a box normally meets them.
 */
import { HandlerTable, on } from '../bus/handlers';
import { InventoryReserved, InventoryShortage, ItemSold } from '../inventory/contract';
import { ReturnCompleted, ReturnOverdue } from '../returns/contract';
import { StylingCompleted, StylingFailed } from '../styling/contract';
import { ReturnArrived, ShipmentDelayed, ShipmentDelivered, ShipmentShipped } from '../warehouse/contract';
import { ShipmentCancelRejected, ShipmentCancelled, ShipmentRejected, ShipmentRequested } from '../warehouse-integration/contract';
import { PurchaseRequested } from './contract';
import type { OrderMachine } from './order-machine';

export const ORDER_EVENTS = new HandlerTable<OrderMachine>([
  on(StylingCompleted, (m, e) => m.transition('styled', e, { itemIds: e.data.items.map((i) => i.itemId) })),
  // Compensation: no box can be made, so the order cancels itself and says why.
  on(StylingFailed, async (m, e) => {
    if (m.cancel.kind === 'none') await m.requestCancel(`styling failed: ${e.data.reason}`, 'system', e);
  }),
  on(InventoryReserved, (m, e) => m.transition('reserved', e, { itemIds: e.data.items.map((i) => i.itemId), statusReason: m.cancellingReason() })),
  on(InventoryShortage, async (m, e) => {
    if (m.cancel.kind !== 'awaiting') await m.transition('placed', e, { statusReason: 're-styling after a stock shortage' });
  }),
  on(ShipmentRequested, (m, e) => m.transition('awaiting_shipment', e, { statusReason: m.cancellingReason() })),
  on(ShipmentRejected, (m, e) => m.transition('address_rejected', e, { statusReason: e.data.reason })),
  // The answer to a cancel: final, or too late (the box had left).
  on(ShipmentCancelled, (m, e) => m.cancelled(e)),
  on(ShipmentCancelRejected, async (m, e) => {
    m.cancelTooLate(e.data.reason);
    await m.transition(m.detail.status, e, { statusReason: `cancel came too late: ${e.data.reason}` });
    m.cancel = { kind: 'tooLate' };
  }),
  on(ShipmentShipped, async (m, e) => {
    // Shipped while a cancel was on its way to the WMS: the cancel cannot win any more.
    if (m.cancel.kind === 'awaiting') m.cancelTooLate('the box had already left the warehouse when the cancel reached it');
    await m.transition('shipped', e, {
      trackingNumber: e.data.trackingNumber,
      statusReason: m.detail.cancelRejected ? `cancel came too late: ${m.detail.cancelRejected}` : undefined,
    });
    if (m.detail.cancelRejected !== undefined) m.cancel = { kind: 'tooLate' };
  }),
  on(ShipmentDelayed, (m, e) => m.transition(m.detail.status, e, { statusReason: 'the warehouse is late' })),
  // The rental window opens (returns follows it); the order stays open until the box is settled.
  on(ShipmentDelivered, (m, e) => m.transition('delivered', e, { statusReason: undefined })),
  // After delivery: purchases (the member's or the overdue path's), the return, the close.
  on(PurchaseRequested, (m, e) => m.noteBought(e.data.itemId, false)),
  on(ItemSold, async (m, e) => {
    m.noteBought(e.data.itemId, true);
    await m.transition(m.detail.status, e);
  }),
  on(ReturnOverdue, (m, e) =>
    m.transition(m.detail.status, e, { statusReason: `overdue: ${e.data.unreturnedItemIds.length} unreturned item(s) are being bought` }),
  ),
  on(ReturnArrived, (m, e) => m.transition('returned', e, { statusReason: undefined })),
  on(ReturnCompleted, async (m, e) => {
    await m.transition('closed', e, { purchasedItemIds: e.data.purchasedItemIds });
    m.result = { status: 'closed' };
  }),
]);
