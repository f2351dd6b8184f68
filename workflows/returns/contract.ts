/** Public contract of the returns domain: the rental window, reminders, and the inspection of returned boxes. */
import type { Duration } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { defineEvent, type EventEnvelope } from '../bus/contract';
import type { ShipmentDeliveredData } from '../warehouse/contract';
import { defineWorkflow } from '../workflow-ref';

/** Task queue of the returns worker. */
export const RETURNS_TASK_QUEUE = 'returns';

/** Workflow id of the return of one box (opened when the box is delivered). */
export const returnWorkflowId = (orderId: string): string => `return:${orderId}`;
/** How long a member keeps a box after delivery. */
export const RENTAL_WINDOW: Duration = '30 days';
/** When reminders go out, relative to the deadline (negative = before). Offsets after the deadline are not sent: the box is bought then. */
export const REMINDER_OFFSETS: readonly string[] = ['-3 days', '-1 day', '0 days'];
/** How long a requested return may take to reach the warehouse before the box is treated as overdue. */
export const RETURN_ARRIVAL_WINDOW: Duration = '14 days';
/**
 * The final bound for an item whose purchase failed for good: if the box has not arrived this
 * long after both the payment failure and the rental deadline, the item is declared lost.
 */
export const LOST_AFTER: Duration = '14 days';

/**
 * How long an item's purchase may wait for its payment outcome before it is reported stalled:
 * dunning's last retry is 7 days after the first decline, so past 10 days payment is stuck.
 */
export const PURCHASE_OUTCOME_BOUND: Duration = '10 days';

/**
 * Deterministic inspection rule (the WMS reports no condition): an item whose sku contains
 * `DAMAGED` (any case) is found damaged and retired; every other item is clean.
 */
export const isDamagedSku = (sku: string): boolean => sku.toUpperCase().includes('DAMAGED');

/** The timings of a return; events start the workflow with the defaults, tests may pass others. Cleaning time is inventory's. */
export interface ReturnPolicy {
  rentalWindow: Duration;
  reminderOffsets: readonly string[];
  arrivalWindow: Duration;
  lostAfter: Duration;
  purchaseOutcomeBound: Duration;
}
export const DEFAULT_RETURN_POLICY: ReturnPolicy = {
  rentalWindow: RENTAL_WINDOW,
  reminderOffsets: REMINDER_OFFSETS,
  arrivalWindow: RETURN_ARRIVAL_WINDOW,
  lostAfter: LOST_AFTER,
  purchaseOutcomeBound: PURCHASE_OUTCOME_BOUND,
};

/** Input of returnWorkflow: the shipment.delivered event that opened the rental window. */
export interface ReturnWorkflowInput {
  event: EventEnvelope<ShipmentDeliveredData>;
  policy?: Partial<ReturnPolicy>;
}

export const itemInspectedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  itemId: z.string(),
  outcome: z.enum(['clean', 'damaged']),
});
/** A returned item was inspected (id `return:<orderId>:<itemId>:inspected`); inventory receives it, then cleans and restocks or retires it. */
export const ItemInspected = defineEvent('item.inspected', 'returns', itemInspectedData);
export type ItemInspectedData = z.infer<typeof itemInspectedData>;

export const itemLostData = z.object({ orderId: z.string(), customerId: z.string(), itemId: z.string(), reason: z.string() });
/** An item the member kept, did not pay for and did not send back (id `return:<orderId>:<itemId>:lost`); inventory retires it. */
export const ItemLost = defineEvent('item.lost', 'returns', itemLostData);
export type ItemLostData = z.infer<typeof itemLostData>;

export const returnCompletedData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  restockedItemIds: z.array(z.string()),
  retiredItemIds: z.array(z.string()),
  purchasedItemIds: z.array(z.string()),
  /** Declared lost by returns and retired by inventory (not in retiredItemIds). */
  lostItemIds: z.array(z.string()),
});
/** Every item of the box is accounted for: restocked, retired, lost or bought (id `return:<orderId>:completed`). */
export const ReturnCompleted = defineEvent('return.completed', 'returns', returnCompletedData);
export type ReturnCompletedData = z.infer<typeof returnCompletedData>;

export const returnOverdueData = z.object({
  orderId: z.string(),
  customerId: z.string(),
  unreturnedItemIds: z.array(z.string()),
  /** Why: the rental window closed with no return requested, or a requested return never arrived. */
  reason: z.string(),
});
/** The box is overdue (id `return:<orderId>:overdue`, once per box); the unreturned items are bought. */
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
  /** Until when a requested return may arrive (set once a return is requested in the rental window). */
  arrivalDeadline?: string;
  /** Items whose purchase failed for good: expected back with the box, else lost. */
  failedPurchaseItemIds: string[];
  inspectedItemIds: string[];
  lostItemIds: string[];
  /** Items whose purchase has waited past PURCHASE_OUTCOME_BOUND for its payment outcome (ops: docs/operations.md). */
  stalledPurchaseItemIds: string[];
}
export const returnStateQuery = defineQuery<ReturnState>('returnState');

export interface ReturnWorkflowResult {
  restockedItemIds: string[];
  retiredItemIds: string[];
  purchasedItemIds: string[];
  lostItemIds: string[];
}

/** The rental window of one box, from delivery until every item is back or bought. */
export const ReturnWorkflow = defineWorkflow<ReturnWorkflowInput, ReturnWorkflowResult>('returnWorkflow', 'returns', RETURNS_TASK_QUEUE);

// Activities: what the returns worker hosts (implemented in activities/returns/).

export interface SendReminderInput {
  orderId: string;
  customerId: string;
  /** Offset from the deadline, e.g. `-3 days`. */
  offset: string;
  deadline: string;
}
export interface SendReminderResult {
  /** false when this reminder had already been sent (replay, retry or reset). */
  sent: boolean;
}
export interface RecordInspectionInput {
  orderId: string;
  itemId: string;
  outcome: 'clean' | 'damaged';
}

/** The returns domain's activities. */
export interface ReturnsActivities {
  /** Sends one reminder at most once per order and offset, whatever retries, replays or resets happen. */
  sendReminder(input: SendReminderInput): Promise<SendReminderResult>;
  /** Records how a returned item was found (the first record stands). */
  recordInspection(input: RecordInspectionInput): Promise<void>;
}
