/**
 * The state of one box's rental window and every move returnWorkflow makes on it: one record per
 * item of the box (its fate and what led to it) instead of a set per fact, and the query's view
 * derived from those records. What each followed event does is the table in
 * workflows/returns/return-events.ts. Every move issues exactly the commands the earlier code
 * issued, in the same order: stored histories replay against it (test/workflows/history-gate.test.ts).
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { log, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { EventEnvelope } from '../bus/contract';
import { publish } from '../bus/publish';
import type { OrderItem } from '../inventory/contract';
import { PurchaseRequested, purchaseRequestedEventId } from '../orders/contract';
import {
  ItemInspected,
  ItemLost,
  ReturnCompleted,
  ReturnOverdue,
  isDamagedSku,
  type ReturnPolicy,
  type ReturnPhase,
  type ReturnState,
  type ReturnWorkflowResult,
  type ReturnsActivities,
} from './contract';

const returns = proxyActivities<ReturnsActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * Where one item stands for the return. out: with the member. buying: purchase requested, payment
 * pending. owed: the purchase failed for good, the item is expected back. inspected / lost: returns
 * stated it, inventory is moving it. sold, restocked, retired: settled.
 */
export type Fate = 'out' | 'buying' | 'owed' | 'inspected' | 'lost' | 'sold' | 'restocked' | 'retired';
const SETTLED: ReadonlySet<Fate> = new Set(['sold', 'restocked', 'retired']);

/** One item of the box and what returns knows about it. */
export interface BoxItem {
  readonly item: OrderItem;
  fate: Fate;
  purchaseRequested: boolean;
  /** The member chose to buy it before the box came back: it is not in the box. */
  keptByMember: boolean;
  failedPurchase: boolean;
  /** When an owed item is declared lost if the box has not arrived by then. */
  lostAt?: number;
  /** Declared lost (it stays so once inventory has retired it: the result tells the two apart). */
  lost: boolean;
  inspected: boolean;
  /** When its purchase was requested, until the outcome (sold or failed) arrives. */
  buyingSince?: number;
  /** Its payment outcome is overdue (reported once). */
  stalled: boolean;
}

/** The next timer of a return. */
export interface Due {
  at: number;
  kind: 'reminder' | 'deadline' | 'arrival' | 'lost' | 'purchase-stalled';
  offset?: string;
  itemId?: string;
}

/** One box's rental window. */
export class ReturnMachine {
  readonly orderId: string;
  readonly customerId: string;
  readonly items: BoxItem[];
  private readonly byId: Map<string, BoxItem>;
  phase: ReturnPhase = 'renting';
  readonly remindersSent: string[] = [];
  arrived = false;
  arrivalDeadline: number | undefined;
  /** The event the return's next publish names as its cause. */
  cause: EventEnvelope;
  private readonly reminders: { offset: string; at: number }[];

  constructor(
    delivered: EventEnvelope<{ orderId: string; customerId: string }>,
    readonly policy: ReturnPolicy,
    readonly deadline: number,
    boxItems: OrderItem[],
  ) {
    this.orderId = delivered.data.orderId;
    this.customerId = delivered.data.customerId;
    this.cause = delivered;
    this.reminders = policy.reminderOffsets
      .map((offset) => ({ offset, at: deadline + msToNumber(offset.replace(/^\+/, '') as Duration) }))
      .filter((r) => r.at <= deadline)
      .sort((a, b) => a.at - b.at);
    this.items = boxItems.map((item) => ({
      item,
      fate: item.state === 'sold' ? 'sold' : 'out',
      purchaseRequested: item.state === 'sold',
      keptByMember: false,
      failedPurchase: false,
      lost: false,
      inspected: false,
      stalled: false,
    }));
    this.byId = new Map(this.items.map((i) => [i.item.itemId, i]));
  }

  /** The item of the box, if it is one (events about other boxes' items are ignored). */
  item(itemId: string): BoxItem | undefined {
    return this.byId.get(itemId);
  }

  /** Ids of the box's items in one of `fates`, in box order. */
  ids(...fates: Fate[]): string[] {
    return this.items.filter((i) => fates.includes(i.fate)).map((i) => i.item.itemId);
  }

  get settled(): boolean {
    return this.items.every((i) => SETTLED.has(i.fate));
  }

  /** The return as the query answers it. */
  view(): ReturnState {
    const idsWhere = (p: (i: BoxItem) => boolean) => this.items.filter(p).map((i) => i.item.itemId);
    return {
      orderId: this.orderId,
      phase: this.phase,
      deadline: new Date(this.deadline).toISOString(),
      remindersSent: this.remindersSent,
      itemIds: this.items.map((i) => i.item.itemId),
      arrivalDeadline: this.arrivalDeadline === undefined ? undefined : new Date(this.arrivalDeadline).toISOString(),
      purchaseRequestedItemIds: idsWhere((i) => i.purchaseRequested),
      soldItemIds: this.ids('sold'),
      failedPurchaseItemIds: idsWhere((i) => i.failedPurchase),
      inspectedItemIds: idsWhere((i) => i.inspected),
      lostItemIds: idsWhere((i) => i.lost),
      stalledPurchaseItemIds: idsWhere((i) => i.stalled && i.fate === 'buying'),
    };
  }

  /** A purchase is under way (the member's, or the overdue path's). */
  startBuying(b: BoxItem): void {
    b.fate = 'buying';
    b.buyingSince = Date.now();
    b.purchaseRequested = true;
  }

  /** States what returns now knows: items in an arrived box are inspected, owed items that cannot come back are lost. */
  async stateFacts(): Promise<void> {
    const { orderId, customerId } = this;
    for (const b of this.items) {
      const { itemId } = b.item;
      if (this.arrived && (b.fate === 'out' || (b.fate === 'owed' && !b.keptByMember))) {
        const outcome = isDamagedSku(b.item.sku) ? 'damaged' : 'clean';
        await returns.recordInspection.executeWithOptions({ summary: `record ${itemId} inspected: ${outcome}` }, [{ orderId, itemId, outcome }]);
        b.fate = 'inspected';
        b.inspected = true;
        await publish(ItemInspected, {
          id: `return:${orderId}:${itemId}:inspected`,
          data: { orderId, customerId, itemId, outcome },
          correlationId: orderId,
          causedBy: this.cause,
        });
      } else if (b.fate === 'owed' && (this.arrived || Date.now() >= b.lostAt!)) {
        b.fate = 'lost';
        b.lost = true;
        const reason = this.arrived
          ? 'kept by the member, not paid for, and not in the returned box'
          : `not paid for, and the box did not come back within ${String(this.policy.lostAfter)}`;
        await publish(ItemLost, {
          id: `return:${orderId}:${itemId}:lost`,
          data: { orderId, customerId, itemId, reason },
          correlationId: orderId,
          causedBy: this.cause,
        });
      }
    }
  }

  /** The box is overdue: the member buys every item still out. */
  async overdue(reason: string): Promise<void> {
    const { orderId, customerId } = this;
    this.phase = 'overdue';
    const unreturned = this.items.filter((i) => i.fate === 'out');
    this.cause = await publish(ReturnOverdue, {
      id: `return:${orderId}:overdue`,
      data: { orderId, customerId, unreturnedItemIds: unreturned.map((i) => i.item.itemId), reason },
      correlationId: orderId,
      causedBy: this.cause,
    });
    for (const b of unreturned) {
      this.startBuying(b);
      await publish(PurchaseRequested, {
        id: purchaseRequestedEventId(orderId, b.item.itemId),
        data: { orderId, customerId, itemId: b.item.itemId, priceCents: b.item.priceCents, reason: 'overdue' },
        correlationId: orderId,
        causedBy: this.cause,
      });
    }
  }

  /**
   * The next timer: a reminder or the deadline while renting, the arrival bound, an owed item's
   * loss, a purchase whose payment outcome is overdue (reported stalled, still awaited).
   */
  nextDue(): Due | undefined {
    const due: Due[] = [];
    for (const b of this.items) {
      if (b.fate === 'buying' && !b.stalled)
        due.push({ at: (b.buyingSince ?? Date.now()) + msToNumber(this.policy.purchaseOutcomeBound), kind: 'purchase-stalled', itemId: b.item.itemId });
    }
    if (this.phase === 'renting') {
      const reminder = this.reminders.find((r) => !this.remindersSent.includes(r.offset));
      due.push(reminder ? { at: reminder.at, kind: 'reminder', offset: reminder.offset } : { at: this.deadline, kind: 'deadline' });
    }
    if (this.phase === 'return_requested' && !this.arrived && this.arrivalDeadline !== undefined) due.push({ at: this.arrivalDeadline, kind: 'arrival' });
    if (!this.arrived) for (const b of this.items) if (b.fate === 'owed') due.push({ at: b.lostAt!, kind: 'lost' });
    return due.reduce<Due | undefined>((first, d) => (first === undefined || d.at < first.at ? d : first), undefined);
  }

  /** A timer fired. */
  async fire(due: Due): Promise<void> {
    const { orderId, customerId, policy } = this;
    if (due.kind === 'reminder') {
      const { sent } = await returns.sendReminder.executeWithOptions({ summary: `remind ${customerId} to return box ${orderId} (${due.offset})` }, [
        { orderId, customerId, offset: due.offset!, deadline: new Date(this.deadline).toISOString() },
      ]);
      this.remindersSent.push(due.offset!);
      log.info('reminder due', { orderId, offset: due.offset, sent });
    } else if (due.kind === 'deadline') {
      await this.overdue('the rental window closed with no return requested');
    } else if (due.kind === 'arrival') {
      await this.overdue(`a return was requested but the box did not arrive within ${String(policy.arrivalWindow)}`);
    } else if (due.kind === 'purchase-stalled') {
      // Payment always announces an outcome; one this late means payment is stuck. Keep waiting for it.
      this.item(due.itemId!)!.stalled = true;
      log.warn('purchase outcome overdue', { orderId, itemId: due.itemId, bound: String(policy.purchaseOutcomeBound) });
      const waiting = this.items.filter((i) => i.stalled && i.fate === 'buying').map((i) => i.item.itemId);
      setCurrentDetails(
        `**Stalled.** Waiting for the payment outcome of ${waiting.join(', ')} of box ${orderId}, due within ${String(policy.purchaseOutcomeBound)}. See docs/operations.md, "A workflow is stalled".`,
      );
    } else {
      await this.stateFacts();
    }
  }

  /** Every item is settled: return.completed, and the workflow's result. */
  async complete(): Promise<ReturnWorkflowResult> {
    const { orderId, customerId } = this;
    this.phase = 'completed';
    const retired = this.items.filter((i) => i.fate === 'retired');
    const result: ReturnWorkflowResult = {
      restockedItemIds: this.ids('restocked'),
      retiredItemIds: retired.filter((i) => !i.lost).map((i) => i.item.itemId),
      purchasedItemIds: this.ids('sold'),
      lostItemIds: retired.filter((i) => i.lost).map((i) => i.item.itemId),
    };
    await publish(ReturnCompleted, {
      id: `return:${orderId}:completed`,
      data: { orderId, customerId, ...result },
      correlationId: orderId,
      causedBy: this.cause,
    });
    return result;
  }
}
