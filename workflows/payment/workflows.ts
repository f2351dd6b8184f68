/**
 * Payment workflows: `chargeWorkflow` charges one charge key at the PSP (with dunning over days
 * on declines) and `refundWorkflow` refunds a captured one.
 */
import { ActivityFailure, ApplicationFailure, allHandlersFinished, condition, executeChild, log, proxyActivities, setHandler } from '@temporalio/workflow';
import { type EventEnvelope, type EventTriggeredInput, isEvent } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { FailureType } from '../failures';
import { waitVisibly } from '../waiting';
import { MembershipRenewalDue, OrderPlaced, PurchaseRequested } from '../orders/contract';
import { ShipmentShipped } from '../warehouse/contract';
import { ShipmentCancelled } from '../warehouse-integration/contract';
import {
  DUNNING_SCHEDULE_DAYS,
  PaymentCaptured,
  PaymentFailed,
  PaymentRefunded,
  RefundFailed,
  chargeStateQuery,
  retryChargeUpdate,
  membershipChargeKey,
  purchaseChargeKey,
  refundWorkflowId,
  shippingChargeKey,
  type ChargePurpose,
  type CardDeclinedDetails,
  type ChargeAttemptResult,
  type ChargeRequest,
  type PaymentActivities,
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
/** How long a captured shipping fee may wait for its box to ship or be cancelled before it is reported stalled. */
const BOX_FATE_BOUND = '14 days';

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

function chargeFacts(event: EventEnvelope<ChargeRequest>): ChargeFacts {
  if (isEvent(event, OrderPlaced)) {
    const { orderId, customerId, shippingFeeCents } = event.data;
    if (!shippingFeeCents)
      throw ApplicationFailure.create({ type: FailureType.InvalidEvent, message: `order ${orderId} has no express shipping fee`, nonRetryable: true });
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
 * The `payment.failed` reason of an attempt that ended for good without a decline (a PSP refusal,
 * or a charge a newer run already settled), else undefined. Attempts retry every transient
 * failure without limit, so only typed non-retryable failures end up here.
 */
function refusalReason(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure && cause.nonRetryable)) return undefined;
  return cause.type === FailureType.PaymentRejected ? `psp_refused: ${cause.message}` : `${cause.type ?? 'failed'}: ${cause.message}`;
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
 * as failed, and an attempt still in doubt there is resolved with the PSP first: a reset's re-run
 * hears the reapplied cancel first, yet takes the capture path when the earlier run captured — even
 * when that capture was still executing at the PSP during the reset.
 *
 * Every charge ends in a published outcome, `payment.captured` or `payment.failed` (declined
 * through dunning, refused by the PSP, or stopped by a cancel), so whoever waits for it (the
 * membership, a return) never waits forever. In dunning, ops may make the next attempt now with
 * the member's current card (`retryCharge` update).
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
  /** An ops retry waiting for the dunning wait to end (its reason). */
  const retry = installRetryHandler(facts.chargeKey, state);
  /** Returns the run's result once every update handler has answered (an ops retry included). */
  const finish = async (result: ChargeState): Promise<ChargeState> => {
    await condition(allHandlersFinished);
    return result;
  };

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
  let refusal: string | undefined;
  for (let attempt = 1; ; attempt++) {
    if (boxCancelled()) {
      stopped = true;
      break;
    }
    Object.assign(state, { attempts: attempt, status: 'charging', nextAttemptAt: undefined });
    try {
      const { pspChargeId, capturedAttempt } = await chargeAttempt(facts, attempt);
      return await finish(await captured({ pspChargeId, capturedAttempt }));
    } catch (err) {
      const code = declineCode(err);
      if (code === undefined) {
        refusal = refusalReason(err);
        if (refusal === undefined) throw err;
        log.warn('charge refused for good', { chargeKey: facts.chargeKey, attempt, reason: refusal });
        break;
      }
      state.lastDecline = code;
      firstDeclineAt ??= Date.now();
      const days = DUNNING_SCHEDULE_DAYS[attempt - 1];
      if (days === undefined) break;
      const at = firstDeclineAt + days * DAY_MS;
      Object.assign(state, { status: 'dunning', nextAttemptAt: new Date(at).toISOString() });
      retry.requested = undefined;
      log.info('charge declined; dunning', { chargeKey: facts.chargeKey, attempt, code, nextAttemptAt: state.nextAttemptAt });
      // A shipping fee's dunning ends early when its box is cancelled for good; an ops retry ends the wait now.
      await condition(() => boxCancelled() || retry.requested !== undefined, Math.max(0, at - Date.now()));
      if (retry.requested !== undefined)
        log.info('ops retry of a declined charge', { chargeKey: facts.chargeKey, nextAttempt: attempt + 1, reason: retry.requested });
    }
  }

  // The durable record decides, not the order in which this run heard things: a reset's re-run
  // hears the reapplied shipment.cancelled before it charges, yet the first run captured (an
  // attempt still in doubt there is resolved with the PSP first).
  const recorded = (await payment.markChargeFailed.executeWithOptions({ summary: `mark ${facts.chargeKey} failed` }, [{ chargeKey: facts.chargeKey }]))
    ?.captured;
  if (recorded) return finish(await captured(recorded));
  const reason = stopped ? 'order_cancelled' : (refusal ?? state.lastDecline ?? 'card_declined');
  Object.assign(state, { status: stopped ? 'cancelled' : 'failed', nextAttemptAt: undefined, failureReason: reason });
  await publish(PaymentFailed, {
    id: `charge:${facts.chargeKey}:failed`,
    data: { ...ref, amountCents: facts.amountCents, reason, attempts: state.attempts },
    correlationId: facts.correlationId,
    causedBy: event,
  });
  return finish(state);
}

/**
 * The `retryCharge` update (ops: the next attempt now, with the member's current card): it waits
 * until that attempt has ended. The returned holder is what the dunning wait watches.
 */
function installRetryHandler(chargeKey: string, state: ChargeState): { requested: string | undefined } {
  const retry: { requested: string | undefined } = { requested: undefined };
  setHandler(
    retryChargeUpdate,
    async ({ reason }) => {
      retry.requested = reason;
      const before = state.attempts;
      await condition(() => state.attempts > before && state.status !== 'charging');
      return state;
    },
    {
      // A refused retry leaves no trace in history: only a charge waiting for its next attempt takes one.
      validator: (input) => {
        if (!input || typeof input.reason !== 'string' || input.reason.length === 0) {
          throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'a retry needs a reason', nonRetryable: true });
        }
        if (state.status !== 'dunning' || retry.requested !== undefined) {
          throw ApplicationFailure.create({
            type: FailureType.ChargeNotRetryable,
            message: `charge ${chargeKey} is ${state.status}: only a charge waiting for a dunning retry can be retried now`,
            nonRetryable: true,
          });
        }
      },
    },
  );
  return retry;
}

/** One attempt at the PSP (declines and refusals are the activity's typed failures). */
function chargeAttempt(facts: ChargeFacts, attempt: number): Promise<ChargeAttemptResult> {
  return payment.chargeAttempt.executeWithOptions({ summary: `charge ${facts.chargeKey} (attempt ${attempt}, ${facts.amountCents} cents)` }, [
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
  ]);
}

/**
 * After its capture a shipping fee waits for its box: shipped (the fee is earned) or cancelled for
 * good (refunded in full by the child `refund:<chargeKey>`; the id makes a second refund impossible).
 */
async function followBox(box: Inbox, chargeKey: string, state: ChargeState): Promise<void> {
  const fates = [ShipmentCancelled, ShipmentShipped];
  await waitVisibly(() => box.has(fates), {
    what: `box ${chargeKey.replace(/^shipping:/, '')} to ship or be cancelled (its express fee is captured)`,
    bound: BOX_FATE_BOUND,
  });
  const fate = box.take(fates);
  if (!fate || !isEvent(fate, ShipmentCancelled)) return;
  const refund = await executeChild(refundWorkflow, {
    workflowId: refundWorkflowId(chargeKey),
    args: [{ chargeKey, reason: `order cancelled: ${fate.data.reason}`, event: fate }],
    staticSummary: `Refund ${chargeKey}: the box was cancelled`,
  });
  if (refund.outcome === 'refused') Object.assign(state, { status: 'refund_failed', failureReason: refund.reason });
  else state.status = 'refunded';
}

/**
 * `refund:<chargeKey>`: refunds a captured charge once and publishes `payment.refunded`; a refund
 * the PSP refuses for good publishes `refund.failed` with the PSP's reason, for ops to act on.
 */
export async function refundWorkflow(input: RefundWorkflowInput): Promise<RefundWorkflowResult> {
  const result = await payment.refundCharge.executeWithOptions({ summary: `refund ${input.chargeKey}` }, [
    { chargeKey: input.chargeKey, reason: input.reason, amountCents: input.amountCents },
  ]);
  if (result.outcome === 'refused' && result.customerId && result.purpose && result.amountCents) {
    const reason = result.reason ?? 'refused by the PSP';
    await publish(RefundFailed, {
      id: `charge:${input.chargeKey}:refund-failed`,
      data: {
        chargeKey: input.chargeKey,
        customerId: result.customerId,
        purpose: result.purpose,
        ...(result.orderId ? { orderId: result.orderId } : {}),
        ...(result.itemId ? { itemId: result.itemId } : {}),
        ...(result.period ? { period: result.period } : {}),
        amountCents: result.amountCents,
        reason,
      },
      correlationId: result.orderId ?? result.customerId,
      causedBy: input.event ?? null,
    });
    return { chargeKey: input.chargeKey, outcome: 'refused', reason };
  }
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
