/** Public contract of the inventory domain: the stock and who holds it. */
import { z } from 'zod';
import { defineEvent } from '../bus/contract';
import { pickedItemSchema, type PickedItem } from '../styling/contract';
import { defineWorkflow } from '../workflow-ref';
import type { Duration } from '@temporalio/common';
import type { EventEnvelope, EventTriggeredInput } from '../bus/contract';
import type { OrderCancelledData } from '../orders/contract';
import type { PaymentCapturedData } from '../payment/contract';
import type { ItemInspectedData, ItemLostData } from '../returns/contract';
import type { StylingCompletedData } from '../styling/contract';
import type { ITEM_STATES } from '../../db/schema/inventory';

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

// Activities: what the inventory worker hosts (implemented in activities/inventory/).

/** An item's state (the `inventory.items.state` column's values; a type only, the table stays in db/schema). */
export type ItemState = (typeof ITEM_STATES)[number];
/** An item of a box as other domains may see it (inventory's exported read). */
export interface OrderItem {
  itemId: string;
  sku: string;
  state: ItemState;
  priceCents: number;
  costCents: number;
}
export interface ItemTransitionInput {
  orderId: string;
  itemId: string;
}
export interface ItemTransitionResult {
  itemId: string;
  state: ItemState;
  /** false when the item was already in the target state (a repeated call). */
  changed: boolean;
}
export interface ReceiveReturnedItemsInput {
  orderId: string;
  itemIds: string[];
}
export interface ReceiveReturnedItemsResult {
  returnedItemIds: string[];
}
export interface SellItemResult extends ItemTransitionResult {
  priceCents: number;
  costCents: number;
}
export interface ReserveItemsInput {
  orderId: string;
  /** The styling attempt of the pick: (orderId, attempt) names one reservation request. */
  attempt: number;
  /** Styling's choice, one item per slot of the box (each slot is its item's size and category). */
  items: PickedItem[];
  /** Styling's ranked backups: a slot whose item is taken gets the first free one of its category. */
  alternatives?: PickedItem[];
}
/** reserved: the items held, slot by slot (a taken choice replaced by a backup, or another item of its size and category). */
export type ReserveItemsResult = { reserved: true; items: PickedItem[] } | { reserved: false; unavailableItemIds: string[] };
export interface ReleaseItemsInput {
  orderId: string;
}
export interface ReleaseItemsResult {
  releasedItemIds: string[];
}
export interface MarkItemsShippedInput {
  orderId: string;
}
export interface MarkItemsShippedResult {
  shippedItemIds: string[];
}

/** The inventory domain's activities: every item transition is a compare-and-set, repeatable. */
export interface InventoryActivities {
  /** The items a box holds, with prices (inventory's exported read). */
  listOrderItems(input: { orderId: string }): Promise<OrderItem[]>;
  /** shipped → returned for the items that came back. */
  receiveReturnedItems(input: ReceiveReturnedItemsInput): Promise<ReceiveReturnedItemsResult>;
  /** returned → cleaning. */
  startCleaning(input: ItemTransitionInput): Promise<ItemTransitionResult>;
  /** cleaning → available. */
  restockItem(input: ItemTransitionInput): Promise<ItemTransitionResult>;
  /** returned → retired (damaged). */
  retireItem(input: ItemTransitionInput): Promise<ItemTransitionResult>;
  /** shipped → retired (lost with the member). */
  retireLostItem(input: ItemTransitionInput): Promise<ItemTransitionResult>;
  /** shipped → sold, with the price and book value. */
  sellItem(input: ItemTransitionInput): Promise<SellItemResult>;
  /** Holds the box's items, slot by slot (a taken choice replaced by a backup), or names what is unavailable. */
  reserveItems(input: ReserveItemsInput): Promise<ReserveItemsResult>;
  /** Releases what the box holds. */
  releaseItems(input: ReleaseItemsInput): Promise<ReleaseItemsResult>;
  /** reserved → shipped for the box's items. */
  markItemsShipped(input: MarkItemsShippedInput): Promise<MarkItemsShippedResult>;
}

/** The restock setting, read as an activity so its value is in the history. */
export interface RestockActivities {
  /** The deployment's cleaning time of a returned clean item. */
  cleaningPolicy(): Promise<{ cleaningTime: string }>;
}
