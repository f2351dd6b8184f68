/**
 * Payment workflows: `chargeWorkflow` charges one charge key at the PSP (with dunning over days
 * on declines) and `refundWorkflow` refunds a captured one.
 */
import { ActivityFailure, ApplicationFailure, condition, executeChild, log, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { ChargeAttemptResult, PaymentActivities } from '../../activities/payment';
import type { CardDeclinedDetails } from '../../activities/payment/psp-client';
import { type EventEnvelope, type EventTriggeredInput, isEvent } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { FailureType } from '../failures';
import {
  MembershipRenewalDue,
  OrderPlaced,
  PurchaseRequested,
  type MembershipRenewalDueData,
  type OrderPlacedData,
  type PurchaseRequestedData,
} from '../orders/contract';
import { ShipmentShipped } from '../warehouse/contract';
import { ShipmentCancelled } from '../warehouse-integration/contract';
import {
  DUNNING_SCHEDULE_DAYS,
  PaymentCaptured,
  PaymentFailed,
  PaymentRefunded,
  chargeStateQuery,
  membershipChargeKey,
  purchaseChargeKey,
  refundWorkflowId,
  shippingChargeKey,
  type ChargePurpose,
  type ChargeState,
  type RefundWorkflowInput,
  type RefundWorkflowResult,
} from './contract';

const payment = proxyActivities<PaymentActivities>({
  // A PSP call answers within 10 s (client timeout); tok_slow and latency faults fit in this.
  startToCloseTimeout: '30 seconds',
  // No attempt limit: a PSP outage only delays the charge. Retries reuse the attempt's
  // idempotency key, so the PSP captures it at most once. Declines are non-retryable failures.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

const DAY_MS = 24 * 60 * 60 * 1000;

/** What is charged, resolved from the event that asked for it. */
interface ChargeFacts {
  chargeKey: string;
  customerId: string;
  purpose: ChargePurpose;
  amountCents: number;
  orderId?: string;
  itemId?: string;
  period?: string;
  description: string;
  /** The timeline the payment events belong to: the order, or the customer for membership fees. */
  correlationId: string;
}

type ChargeRequest = PurchaseRequestedData | MembershipRenewalDueData | OrderPlacedData;

function chargeFacts(event: EventEnvelope<ChargeRequest>): ChargeFacts {
  if (isEvent(event, OrderPlaced)) {
    const { orderId, customerId, shippingFeeCents } = event.data;
    if (!shippingFeeCents) throw ApplicationFailure.create({ type: FailureType.InvalidEvent, message: `order ${orderId} has no express shipping fee`, nonRetryable: true });
    return {
      chargeKey: shippingChargeKey(orderId),
      customerId,
      purpose: 'shipping',
      amountCents: shippingFeeCents,
      orderId,
      description: `closetflow: express shipping of box ${orderId}`,
      correlationId: orderId,
    };
  }
  if (isEvent(event, PurchaseRequested)) {
    const { orderId, itemId, customerId, priceCents, reason } = event.data;
    return {
      chargeKey: purchaseChargeKey(orderId, itemId),
      customerId,
      purpose: 'purchase',
      amountCents: priceCents,
      orderId,
      itemId,
      description: `closetflow: item ${itemId} of box ${orderId}${reason === 'overdue' ? ' (not returned)' : ''}`,
      correlationId: orderId,
    };
  }
  if (isEvent(event, MembershipRenewalDue)) {
    const { customerId, period, amountCents } = event.data;
    return {
      chargeKey: membershipChargeKey(customerId, period),
      customerId,
      purpose: 'membership',
      amountCents,
      period,
      description: `closetflow membership ${period}`,
      correlationId: customerId,
    };
  }
  throw ApplicationFailure.create({ type: FailureType.InvalidEvent, message: `chargeWorkflow cannot charge for ${event.type}`, nonRetryable: true });
}

/** The decline code if `err` is a declined attempt, else undefined. */
function declineCode(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.type === FailureType.CardDeclined) {
    return (cause.details?.[0] as CardDeclinedDetails | undefined)?.code ?? 'card_declined';
  }
  return undefined;
}

/**
 * `charge:<chargeKey>`, started by `purchase.requested`, `membership.renewal_due` or an express
 * `order.placed`. Tries the charge; on a decline retries at +1 d, +3 d and +7 d after the first
 * decline (durable timers), each attempt under its own PSP idempotency key; then publishes
 * `payment.captured` or `payment.failed`.
 *
 * A shipping fee also follows its box: `shipment.cancelled` (the cancel is final) stops the
 * charge if nothing is captured yet — no further attempt, `payment.failed` with reason
 * `order_cancelled` — and otherwise refunds the capture through the child `refund:shipping:<orderId>`,
 * once the attempt in flight has its answer. So the money of a cancelled box is never kept, a
 * refund never precedes its capture, and it happens at most once. `shipment.shipped` ends it.
 * Whether anything was captured is read from payment's record before a cancel ends the charge
 * as failed: a reset's re-run hears the reapplied cancel first, yet takes the capture path again.
 */
export async function chargeWorkflow({ event }: EventTriggeredInput<ChargeRequest>): Promise<ChargeState> {
  const facts = chargeFacts(event);
  // Only a shipping fee listens to its box; other charges take no signals.
  const box = facts.purpose === 'shipping' ? new Inbox() : undefined;
  const boxCancelled = (): boolean => box?.has([ShipmentCancelled]) ?? false;
  const ref = {
    chargeKey: facts.chargeKey,
    customerId: facts.customerId,
    purpose: facts.purpose,
    ...(facts.orderId ? { orderId: facts.orderId } : {}),
    ...(facts.itemId ? { itemId: facts.itemId } : {}),
    ...(facts.period ? { period: facts.period } : {}),
  };
  const state: ChargeState = { chargeKey: facts.chargeKey, status: 'charging', attempts: 0 };
  setHandler(chargeStateQuery, () => state);

  /** The capture path, the same event ids whichever way this run learnt of the capture. */
  async function captured({ pspChargeId, capturedAttempt }: ChargeAttemptResult): Promise<ChargeState> {
    Object.assign(state, { status: 'captured', pspChargeId, attempts: capturedAttempt, nextAttemptAt: undefined });
    await publish(PaymentCaptured, {
      id: `charge:${facts.chargeKey}:captured`,
      data: { ...ref, amountCents: facts.amountCents, pspChargeId, attempts: capturedAttempt },
      correlationId: facts.correlationId,
      causedBy: event,
    });
    if (box) await followBox(box, facts.chargeKey, state);
    return state;
  }

  let firstDeclineAt: number | undefined;
  let stopped = false;
  for (let attempt = 1; ; attempt++) {
    if (boxCancelled()) {
      stopped = true;
      break;
    }
    state.attempts = attempt;
    try {
      const { pspChargeId, capturedAttempt } = await payment.chargeAttempt.executeWithOptions(
        { summary: `charge ${facts.chargeKey} (attempt ${attempt}, ${facts.amountCents} cents)` },
        [
          {
            chargeKey: facts.chargeKey,
            attempt,
            customerId: facts.customerId,
            purpose: facts.purpose,
            amountCents: facts.amountCents,
            orderId: facts.orderId,
            itemId: facts.itemId,
            period: facts.period,
            description: facts.description,
            attemptedAt: new Date().toISOString(),
          },
        ],
      );
      return await captured({ pspChargeId, capturedAttempt });
    } catch (err) {
      const code = declineCode(err);
      if (code === undefined) throw err;
      state.lastDecline = code;
      firstDeclineAt ??= Date.now();
      const days = DUNNING_SCHEDULE_DAYS[attempt - 1];
      if (days === undefined) break;
      const at = firstDeclineAt + days * DAY_MS;
      Object.assign(state, { status: 'dunning', nextAttemptAt: new Date(at).toISOString() });
      log.info('charge declined; dunning', { chargeKey: facts.chargeKey, attempt, code, nextAttemptAt: state.nextAttemptAt });
      // A shipping fee's dunning ends early when its box is cancelled for good.
      if (box) await condition(boxCancelled, Math.max(0, at - Date.now()));
      else await sleep(Math.max(0, at - Date.now()));
    }
  }

  // The durable record decides, not the order in which this run heard things: a reset's re-run
  // hears the reapplied shipment.cancelled before it charges, yet the first run captured.
  const recorded = (await payment.markChargeFailed.executeWithOptions({ summary: `mark ${facts.chargeKey} failed` }, [{ chargeKey: facts.chargeKey }]))?.captured;
  if (recorded) return captured(recorded);
  Object.assign(state, { status: stopped ? 'cancelled' : 'failed', nextAttemptAt: undefined });
  await publish(PaymentFailed, {
    id: `charge:${facts.chargeKey}:failed`,
    data: { ...ref, amountCents: facts.amountCents, reason: stopped ? 'order_cancelled' : (state.lastDecline ?? 'card_declined'), attempts: state.attempts },
    correlationId: facts.correlationId,
    causedBy: event,
  });
  return state;
}

/**
 * After its capture a shipping fee waits for its box: shipped (the fee is earned) or cancelled for
 * good (refunded in full by the child `refund:<chargeKey>`; the id makes a second refund impossible).
 */
async function followBox(box: Inbox, chargeKey: string, state: ChargeState): Promise<void> {
  const fate = await box.next([ShipmentCancelled, ShipmentShipped]);
  if (!fate || !isEvent(fate, ShipmentCancelled)) return;
  await executeChild(refundWorkflow, {
    workflowId: refundWorkflowId(chargeKey),
    args: [{ chargeKey, reason: `order cancelled: ${fate.data.reason}`, event: fate }],
    staticSummary: `Refund ${chargeKey}: the box was cancelled`,
  });
  state.status = 'refunded';
}

/** `refund:<chargeKey>`: refunds a captured charge once and publishes `payment.refunded`. */
export async function refundWorkflow(input: RefundWorkflowInput): Promise<RefundWorkflowResult> {
  const result = await payment.refundCharge.executeWithOptions({ summary: `refund ${input.chargeKey}` }, [
    { chargeKey: input.chargeKey, reason: input.reason, amountCents: input.amountCents },
  ]);
  if (result.outcome !== 'refunded' || !result.pspRefundId || !result.amountCents || !result.customerId || !result.purpose) {
    log.info('nothing to refund', { chargeKey: input.chargeKey });
    return { chargeKey: input.chargeKey, outcome: 'nothing-to-refund' };
  }
  await publish(PaymentRefunded, {
    id: `charge:${input.chargeKey}:refunded`,
    data: {
      chargeKey: input.chargeKey,
      customerId: result.customerId,
      purpose: result.purpose,
      ...(result.orderId ? { orderId: result.orderId } : {}),
      ...(result.itemId ? { itemId: result.itemId } : {}),
      ...(result.period ? { period: result.period } : {}),
      amountCents: result.amountCents,
      pspRefundId: result.pspRefundId,
    },
    correlationId: result.orderId ?? result.customerId,
    causedBy: input.event ?? null,
  });
  return { chargeKey: input.chargeKey, outcome: 'refunded', pspRefundId: result.pspRefundId, amountCents: result.amountCents };
}
