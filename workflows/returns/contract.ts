/** Public contract of the returns domain: the rental window, reminders, and the inspection of returned boxes. */
import type { Duration } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { defineEvent, type EventEnvelope } from '../bus/contract';
import type { ShipmentDeliveredData } from '../warehouse/contract';

/** Task queue of the returns worker. */
export const RETURNS_TASK_QUEUE = 'returns';

/** Workflow id of the return of one box (opened when the box is delivered). */
export const returnWorkflowId = (orderId: string): string => `return:${orderId}`;
/** Workflow id of the inspection of one returned item (a child of the return). */
export const inspectItemWorkflowId = (orderId: string, itemId: string): string => `inspect:${orderId}:${itemId}`;

/** How long a member keeps a box after delivery. */
export const RENTAL_WINDOW: Duration = '30 days';
/** When reminders go out, relative to the deadline (negative = before). Offsets after the deadline are not sent: the box is bought then. */
export const REMINDER_OFFSETS: readonly string[] = ['-3 days', '-1 day', '0 days'];
/** How long a clean item spends in cleaning before it is available again. */
export const CLEANING_TIME: Duration = '1 day';

/**
 * Deterministic inspection rule (the WMS reports no condition): an item whose sku contains
 * `DAMAGED` (any case) is found damaged and retired; every other item is clean.
 */
export const isDamagedSku = (sku: string): boolean => sku.toUpperCase().includes('DAMAGED');

/** The timings of a return; events start the workflow with the defaults, tests may pass others. */
export interface ReturnPolicy {
  rentalWindow: Duration;
  reminderOffsets: readonly string[];
  cleaningTime: Duration;
}
export const DEFAULT_RETURN_POLICY: ReturnPolicy = { rentalWindow: RENTAL_WINDOW, reminderOffsets: REMINDER_OFFSETS, cleaningTime: CLEANING_TIME };

/** Input of returnWorkflow: the shipment.delivered event that opened the rental window. */
export interface ReturnWorkflowInput {
  event: EventEnvelope<ShipmentDeliveredData>;
  policy?: Partial<ReturnPolicy>;
}

export interface InspectItemInput {
  orderId: string;
  customerId: string;
  itemId: string;
  sku: string;
  cleaningTime: Duration;
  /** The return.arrived event, as the cause of item.restocked / item.retired. */
  cause: EventEnvelope;
}
export interface InspectItemResult {
  itemId: string;
  outcome: 'restocked' | 'retired';
}

export const returnCompletedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  restockedItemIds: z.array(z.string()),
  retiredItemIds: z.array(z.string()),
  purchasedItemIds: z.array(z.string()),
});
/** Every item of the box is accounted for: restocked, retired or bought (id `return:<orderId>:completed`). */
export const ReturnCompleted = defineEvent('return.completed', 'returns', returnCompletedData);
export type ReturnCompletedData = z.infer<typeof returnCompletedData>;

export const returnOverdueData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  unreturnedItemIds: z.array(z.string()),
});
/** The rental window closed with no return requested (id `return:<orderId>:overdue`); the unreturned items are bought. */
export const ReturnOverdue = defineEvent('return.overdue', 'returns', returnOverdueData);
export type ReturnOverdueData = z.infer<typeof returnOverdueData>;

export type ReturnPhase = 'renting' | 'return_requested' | 'overdue' | 'inspecting' | 'completed';
/** Current state of a return, answered by the running workflow. */
export interface ReturnState {
  orderId: string;
  phase: ReturnPhase;
  deadline: string;
  remindersSent: string[];
  itemIds: string[];
  purchaseRequestedItemIds: string[];
  soldItemIds: string[];
}
export const returnStateQuery = defineQuery<ReturnState>('returnState');

export interface ReturnWorkflowResult {
  restockedItemIds: string[];
  retiredItemIds: string[];
  purchasedItemIds: string[];
}
