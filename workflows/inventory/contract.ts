/** Public contract of the inventory domain: the stock and who holds it. */
import { z } from 'zod';
import { defineEvent } from '../bus/contract';
import { pickedItemSchema } from '../styling/contract';
import { defineWorkflow } from '../workflow-ref';
import type { Duration } from '@temporalio/common';
import type { EventEnvelope, EventTriggeredInput } from '../bus/contract';
import type { OrderCancelledData } from '../orders/contract';
import type { PaymentCapturedData } from '../payment/contract';
import type { ItemInspectedData, ItemLostData } from '../returns/contract';
import type { StylingCompletedData } from '../styling/contract';

/** Task queue of the inventory worker. */
export const INVENTORY_TASK_QUEUE = 'inventory';

/** Workflow id of the reservation an order holds on stock. */
export const reservationWorkflowId = (orderId: string): string => `reservation:${orderId}`;

export const inventoryReservedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  attempt: z.number().int(),
  items: z.array(pickedItemSchema).min(1),
});
/** Every picked item is now held for the order, atomically. */
export const InventoryReserved = defineEvent('inventory.reserved', 'inventory', inventoryReservedData);
export type InventoryReservedData = z.infer<typeof inventoryReservedData>;

export const inventoryShortageData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  attempt: z.number().int(),
  unavailableItemIds: z.array(z.string()).min(1),
});
/** Some picked items were taken by another order; nothing was reserved. */
export const InventoryShortage = defineEvent('inventory.shortage', 'inventory', inventoryShortageData);
export type InventoryShortageData = z.infer<typeof inventoryShortageData>;

export const inventoryReleasedData = z.object({
  orderId: z.string(),
  itemIds: z.array(z.string()),
  reason: z.string(),
});
/** Items held for an order are available again. */
export const InventoryReleased = defineEvent('inventory.released', 'inventory', inventoryReleasedData);
export type InventoryReleasedData = z.infer<typeof inventoryReleasedData>;

export interface ReservationWorkflowResult {
  outcome: 'shipped' | 'released' | 'abandoned';
  itemIds: string[];
}

/** Workflow id of the sale of one item of a box (started by its captured payment). */
export const saleWorkflowId = (orderId: string, itemId: string): string => `sale:${orderId}:${itemId}`;

export const itemRestockedData = z.object({ orderId: z.string(), customerId: z.string(), itemId: z.string() });
/** A returned item is clean and available again (id `inventory:<orderId>:<itemId>:restocked`). */
export const ItemRestocked = defineEvent('item.restocked', 'inventory', itemRestockedData);
export type ItemRestockedData = z.infer<typeof itemRestockedData>;

export const itemRetiredData = z.object({ orderId: z.string(), customerId: z.string(), itemId: z.string(), reason: z.string() });
/** An item leaves the stock for good: found damaged on return, or lost (id `inventory:<orderId>:<itemId>:retired`). */
export const ItemRetired = defineEvent('item.retired', 'inventory', itemRetiredData);
export type ItemRetiredData = z.infer<typeof itemRetiredData>;

export const itemSoldData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  itemId: z.string(),
  /** What the member paid. */
  priceCents: z.number().int().positive(),
  /** The item's book value: cost of goods sold. */
  costCents: z.number().int().min(0),
});
/** The member bought an item of the box and paid (id `inventory:<orderId>:<itemId>:sold`). */
export const ItemSold = defineEvent('item.sold', 'inventory', itemSoldData);
export type ItemSoldData = z.infer<typeof itemSoldData>;

export interface SaleWorkflowResult {
  itemId: string;
  outcome: 'sold';
}

/** Workflow id of taking one item of a box back into stock (or out of it), started by returns' `item.inspected` or `item.lost`. */
export const restockWorkflowId = (orderId: string, itemId: string): string => `restock:${orderId}:${itemId}`;
/** How long a clean returned item spends in cleaning before it is available again (INVENTORY_CLEANING_TIME per deployment). */
export const CLEANING_TIME = '1 day';

export interface RestockWorkflowResult {
  itemId: string;
  outcome: 'restocked' | 'retired';
}

/** Input of restockWorkflow: the returns event that started it; `cleaningTime` overrides the deployment's (tests). */
export interface RestockWorkflowInput {
  event: EventEnvelope<ItemInspectedData | ItemLostData>;
  cleaningTime?: Duration;
}

/** Holds the items of one box until it ships or is released, started by `styling.completed`. */
export const ReservationWorkflow = defineWorkflow<EventTriggeredInput<StylingCompletedData | OrderCancelledData>, ReservationWorkflowResult>(
  'reservationWorkflow',
  'inventory',
  INVENTORY_TASK_QUEUE,
);
/** Sells one item of a box to its member, started by the purchase's `payment.captured`. */
export const SaleWorkflow = defineWorkflow<EventTriggeredInput<PaymentCapturedData>, SaleWorkflowResult>('saleWorkflow', 'inventory', INVENTORY_TASK_QUEUE);
/** Takes one returned (or lost) item back into stock or out of it. */
export const RestockWorkflow = defineWorkflow<RestockWorkflowInput, RestockWorkflowResult>('restockWorkflow', 'inventory', INVENTORY_TASK_QUEUE);
