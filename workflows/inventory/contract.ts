/** Public contract of the inventory domain: the stock and who holds it. */
import { z } from 'zod';
import { defineEvent } from '../bus/contract';
import { pickedItemSchema } from '../styling/contract';

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
