/**
 * The events an order follows, in the order a box normally goes through them: one list for the
 * subscriptions (what the bus delivers) and for orderWorkflow (what its inbox waits for).
 */
import { InventoryReserved, InventoryShortage, ItemSold } from '../inventory/contract';
import { ReturnCompleted, ReturnOverdue } from '../returns/contract';
import { StylingCompleted, StylingFailed } from '../styling/contract';
import { ReturnArrived, ShipmentDelayed, ShipmentDelivered, ShipmentShipped } from '../warehouse/contract';
import { ShipmentCancelRejected, ShipmentCancelled, ShipmentRejected, ShipmentRequested } from '../warehouse-integration/contract';
import { PurchaseRequested } from './contract';

export const ORDER_FOLLOWED_EVENTS = [
  StylingCompleted,
  StylingFailed,
  InventoryReserved,
  InventoryShortage,
  ShipmentRequested,
  ShipmentRejected,
  // The answer to a cancel: final, or too late (the box had left).
  ShipmentCancelled,
  ShipmentCancelRejected,
  ShipmentShipped,
  ShipmentDelayed,
  ShipmentDelivered,
  // After delivery: purchases (the member's or the overdue path's), the return, the close.
  PurchaseRequested,
  ItemSold,
  ReturnOverdue,
  ReturnArrived,
  ReturnCompleted,
];
