/** Public contract of the styling domain: stylists pick the items of a box. */
import { z } from 'zod';
import { defineEvent } from '../bus/contract';
import { defineWorkflow } from '../workflow-ref';
import type { EventTriggeredInput } from '../bus/contract';
import type { OrderPlacedData } from '../orders/contract';

/** Task queue of the styling worker. */
export const STYLING_TASK_QUEUE = 'styling';

/** Workflow id of the styling of one order. */
export const stylingWorkflowId = (orderId: string): string => `styling:${orderId}`;

/** How many picks styling makes (the first plus re-picks after shortages) before it gives up. */
export const STYLING_MAX_ATTEMPTS = 3;

export const pickedItemSchema = z.object({
  itemId: z.string(),
  sku: z.string(),
  category: z.string(),
  size: z.string(),
  colour: z.string(),
});
export type PickedItem = z.infer<typeof pickedItemSchema>;

export const stylingCompletedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  attempt: z.number().int().min(1),
  /** The chosen items, one per slot of the box. */
  items: z.array(pickedItemSchema).min(1),
  /**
   * Ranked backups, best first: where a chosen item is taken by the time inventory reserves, the
   * slot gets the first free backup of its category (then any free item of its size and category).
   */
  alternatives: z.array(pickedItemSchema).optional(),
});
/** Styling picked the items of a box (again, with a higher attempt, after a shortage). */
export const StylingCompleted = defineEvent('styling.completed', 'styling', stylingCompletedData);
export type StylingCompletedData = z.infer<typeof stylingCompletedData>;

export const stylingFailedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  attempts: z.number().int(),
  reason: z.string(),
});
/** Styling could not fill the box: no stock fits, or every attempt hit a shortage. */
export const StylingFailed = defineEvent('styling.failed', 'styling', stylingFailedData);
export type StylingFailedData = z.infer<typeof stylingFailedData>;

export interface StylingWorkflowResult {
  outcome: 'reserved' | 'failed' | 'cancelled';
  attempts: number;
}

/** Picks the items of one box, started by `order.placed`. */
export const StylingWorkflow = defineWorkflow<EventTriggeredInput<OrderPlacedData>, StylingWorkflowResult>('stylingWorkflow', 'styling', STYLING_TASK_QUEUE);

// Activities: what the styling worker hosts (implemented in activities/styling/).

export interface PickItemsInput {
  orderId: string;
  attempt: number;
  size: string;
  categories: string[];
  itemCount: number;
  /** Items known to be taken (from earlier shortages): never pick them again. */
  excludeItemIds: string[];
}
export interface PickItemsResult {
  items: PickedItem[];
  /** Ranked backups of the chosen categories, for inventory to fill a slot whose item was taken meanwhile. */
  alternatives: PickedItem[];
}

/** The styling domain's activities. */
export interface StylingActivities {
  /** Picks the box's items from available stock: the same attempt picks the same items. */
  pickItems(input: PickItemsInput): Promise<PickItemsResult>;
}
