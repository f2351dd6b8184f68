/**
 * What a reservation follows and what each event does to it: the one table from which the
 * reservation subscriptions (workflows/inventory/subscriptions.ts) and reservationWorkflow's inbox
 * filter are derived. Each entry names its subscription (the deliveries' dedupe key).
 */
import { HandlerTable, on } from '../bus/handlers';
import { OrderCancelled } from '../orders/contract';
import { StylingCompleted, StylingFailed } from '../styling/contract';
import { ShipmentShipped } from '../warehouse/contract';
import { ShipmentCancelled } from '../warehouse-integration/contract';
import type { ReservationMachine } from './reservation-machine';

export const RESERVATION_EVENTS = new HandlerTable<ReservationMachine>([
  on(StylingCompleted, (m, e) => m.reserve(e), {
    name: 'inventory.reserve-picked-items',
    start: true,
    summary: (e) => `Reserve ${e.data.items.length} items for box ${e.data.orderId}`,
  }),
  on(
    StylingFailed,
    (m) => {
      m.result = { outcome: 'abandoned', itemIds: [] };
    },
    { name: 'inventory.abandon-on-styling-failed' },
  ),
  // start: true so a cancel that beats the first pick leaves a closed reservation behind (a tombstone).
  on(OrderCancelled, (m) => m.cancel(), { name: 'inventory.release-on-cancel', start: true }),
  // Held items are let go only once the WMS side confirms nothing will ship.
  on(ShipmentCancelled, (m, e) => m.release(e), { name: 'inventory.release-on-shipment-cancelled' }),
  on(ShipmentShipped, (m) => m.shipped(), { name: 'inventory.ship-reserved-items' }),
]);
