/**
 * Accounting workflows: `ledgerWorkflow` books each customer's money events in causal order, and
 * `monthlyCloseWorkflow` closes a period in sequential steps (run by a Temporal Schedule through
 * `monthlyCloseScheduledWorkflow`).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  executeChild,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { AccountingActivities, UndeliveredResult } from './contract';
import type { EventEnvelope } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { FailureType } from '../failures';
import { PaymentCaptured, PaymentRefunded } from '../payment/contract';
import {
  ACCOUNTING_TASK_QUEUE,
  DEFAULT_CLOSE_MAX_WAIT_MS,
  ItemSold,
  PeriodClosed,
  monthlyCloseWorkflowId,
  sweepLedgerSignal,
  periodOf,
  shiftPeriod,
  type LedgerCarriedState,
  type LedgerState,
  type LedgerWorkflowInput,
  type MonthlyCloseInput,
  type MonthlyCloseResult,
  type MonthlyCloseScheduledInput,
  type MonthlyCloseScheduledResult,
} from './contract';

const accounting = proxyActivities<AccountingActivities>({
  startToCloseTimeout: '30 seconds',
  // No attempt limit: a database outage only delays the books. Typed failures are non-retryable.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const BOOKED = [PaymentCaptured, PaymentRefunded, ItemSold];
const DEFAULT_EVENTS_PER_RUN = 200;
const RECENT_IDS_KEPT = 500;

/** Marks runs that sweep for unbooked money events when they start fresh (older histories do not). */
const LEDGER_SWEEP_PATCH = 'ledger-sweeps-unbooked-events';
/** Marks closes that fail on unbooked money events and wait at most maxWaitMs (older histories wait unbounded). */
const CLOSE_BOUND_PATCH = 'close-fails-on-unbooked-money';

export const ledgerStateQuery = defineQuery<LedgerState>('ledgerState');

function customerOf(event: EventEnvelope | undefined): string {
  const customerId = (event?.data as { customerId?: unknown } | undefined)?.customerId;
  if (typeof customerId !== 'string')
    throw ApplicationFailure.create({
      type: FailureType.InvalidEvent,
      message: `${event?.id ?? 'a ledger run without an event'} names no customer`,
      nonRetryable: true,
    });
  return customerId;
}
const chargeKeyOf = (event: EventEnvelope): string => (event.data as { chargeKey: string }).chargeKey;

/**
 * One customer's ledger (`ledger:<customerId>`), started by the first money event of the customer
 * and never finishing. Applies events one at a time in arrival order; a refund is held until the
 * entry of the capture it refunds exists. A run that starts fresh (not continued as new) first
 * sweeps the event log for the customer's money events without an entry and books them, and so
 * does a running one on `sweepLedger`. Continues as new every `eventsPerRun` applied events (or
 * when Temporal suggests it), carrying what it has not applied yet and its dedupe state.
 */
export async function ledgerWorkflow(input: LedgerWorkflowInput): Promise<void> {
  const carried = input.state;
  const inbox = new Inbox(input.event);
  const eventsPerRun = input.eventsPerRun ?? DEFAULT_EVENTS_PER_RUN;
  const customerId = carried?.customerId ?? input.customerId ?? customerOf(input.event);
  const queue: EventEnvelope[] = [...(carried?.pending ?? [])];
  const recentIds: string[] = [...(carried?.recentIds ?? [])];
  const recent = new Set(recentIds);
  const captured = new Set(carried?.capturedChargeKeys ?? []);
  const held = new Map<string, EventEnvelope[]>();
  const run = (carried?.run ?? 0) + 1;
  let applied = carried?.applied ?? 0;
  let appliedThisRun = 0;
  let sweeps = 0;
  // A fresh run may follow one that was terminated or failed holding events it never booked (or
  // whose events were rejected while it was closed): the event log still has them. A continued run
  // inherits its predecessor's queue instead, and sweeps only if one was still asked for.
  let sweepRequested = carried ? carried.sweepRequested === true : patched(LEDGER_SWEEP_PATCH);
  setHandler(sweepLedgerSignal, () => {
    sweepRequested = true;
  });

  setHandler(ledgerStateQuery, () => ({
    customerId,
    run,
    applied,
    appliedThisRun,
    heldRefunds: [...held.keys()],
    queued: queue.length,
    sweeps,
  }));

  const drainInbox = (): void => {
    for (let e = inbox.take(BOOKED); e; e = inbox.take(BOOKED)) queue.push(e);
  };
  const remember = (id: string): void => {
    recent.add(id);
    recentIds.push(id);
    while (recentIds.length > RECENT_IDS_KEPT) recent.delete(recentIds.shift()!);
  };
  const sweep = async (): Promise<void> => {
    sweepRequested = false;
    sweeps += 1;
    const { events, more } = await accounting.findUnbookedEvents.executeWithOptions({ summary: `sweep unbooked money events of ${customerId}` }, [
      { customerId },
    ]);
    // Through the inbox: an event both swept and delivered is applied once (and posting is
    // idempotent by source event id besides). Captures come first, so their refunds need not wait.
    let added = 0;
    for (const event of events) if (inbox.add(event)) added += 1;
    if (added > 0) log.info('ledger sweep queued unbooked money events', { customerId, run, added });
    // Another batch once these are applied; a batch that brought nothing new (refunds still
    // waiting for their capture) would only repeat itself.
    if (more && added > 0) sweepRequested = true;
  };
  if (sweepRequested) await sweep();

  for (;;) {
    if (appliedThisRun >= eventsPerRun || workflowInfo().continueAsNewSuggested) {
      // The hand-over: no handler may be mid-flight when the run closes, and every event this run
      // has received but not applied goes into the next run's queue (the dedupe ids go too, bounded).
      await condition(allHandlersFinished);
      drainInbox();
      const state: LedgerCarriedState = {
        customerId,
        pending: [...queue, ...[...held.values()].flat()],
        recentIds,
        capturedChargeKeys: [...captured],
        applied,
        run,
        ...(sweepRequested ? { sweepRequested } : {}),
      };
      log.info('ledger continues as new', { customerId, run, applied, pending: state.pending.length });
      await continueAsNew<typeof ledgerWorkflow>({ state, eventsPerRun });
    }
    await condition(() => queue.length > 0 || inbox.has(BOOKED) || sweepRequested);
    drainInbox();
    // A requested sweep waits until what is queued is applied: it then finds only what is really missing.
    if (queue.length === 0) {
      await sweep();
      continue;
    }
    const event = queue.shift()!;
    if (recent.has(event.id)) {
      log.info('event already booked', { eventId: event.id, customerId });
      continue;
    }

    if (event.type === PaymentRefunded.type) {
      const chargeKey = chargeKeyOf(event);
      if (!captured.has(chargeKey)) {
        // The capture may have been booked by an earlier ledger (or a run whose state was lost).
        if (await accounting.isCapturePosted.executeWithOptions({ summary: `is the capture of ${chargeKey} posted` }, [{ chargeKey }])) captured.add(chargeKey);
        else {
          log.info('refund held until its capture is booked', { eventId: event.id, chargeKey });
          held.set(chargeKey, [...(held.get(chargeKey) ?? []), event]);
          continue;
        }
      }
    }

    await accounting.postEvent.executeWithOptions({ summary: `book ${event.type} ${event.id}` }, [{ event }]);
    remember(event.id);
    applied += 1;
    appliedThisRun += 1;

    if (event.type === PaymentCaptured.type) {
      const chargeKey = chargeKeyOf(event);
      captured.add(chargeKey);
      const refunds = held.get(chargeKey);
      if (refunds) {
        held.delete(chargeKey);
        queue.unshift(...refunds);
      }
    }
  }
}

/** Turns a failed close step into the workflow's own typed, non-retryable failure (Failed in the Web UI). */
function stepFailed(step: string, err: unknown): never {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    throw ApplicationFailure.create({
      type: cause.type ?? 'CloseStepFailed',
      message: `${step} failed: ${cause.message}`,
      nonRetryable: true,
      details: cause.details ?? undefined,
    });
  }
  throw err;
}

/**
 * The close's loud failure: which money events of the period have no journal entry and why, and
 * (when the wait ran out) which events are still not delivered. Non-retryable: nothing books them
 * by itself, so ops rebook the customers' ledgers and run the close again.
 */
function unbookedMoneyEvents(period: string, check: UndeliveredResult, waitedMs: number | null): never {
  const unbooked = check.unbooked ?? [];
  const unbookedTotal = check.unbookedTotal ?? unbooked.length;
  const undeliveredEvents = waitedMs === null ? [] : (check.undeliveredEvents ?? []);
  const why = { 'ledger-closed': 'ledger closed', 'in-flight': 'still in flight' } as const;
  const parts: string[] = [];
  if (unbookedTotal > 0) {
    const listed = unbooked.map((e) => `${e.eventId} (${e.type}, customer ${e.customerId ?? '?'}: ${why[e.reason]})`).join(', ');
    parts.push(
      `${unbookedTotal} money event(s) have no journal entry: ${listed}${unbookedTotal > unbooked.length ? ` and ${unbookedTotal - unbooked.length} more` : ''}`,
    );
  }
  if (undeliveredEvents.length > 0) {
    const listed = undeliveredEvents.map((e) => `${e.eventId} (${e.type}, not delivered to ${e.missing.join(', ')})`).join(', ');
    parts.push(
      `${check.undelivered} event(s) are not delivered to every subscriber: ${listed}${check.undelivered > undeliveredEvents.length ? ` and ${check.undelivered - undeliveredEvents.length} more` : ''}`,
    );
  }
  const waited = waitedMs === null ? '' : ` after waiting ${Math.round(waitedMs / 60_000)} min`;
  throw ApplicationFailure.create({
    type: FailureType.UnbookedMoneyEvents,
    message: `period ${period} cannot close${waited}: ${parts.join('; ')}. Rebook each customer's ledger (POST /admin/accounting/ledgers/:customerId/rebook), then run the close again.`,
    nonRetryable: true,
    details: [{ period, unbooked, unbookedTotal, undelivered: check.undelivered, undeliveredEvents, waitedMs }],
  });
}

/**
 * Closes one period (`close:<period>`), step after step; a failed step fails the workflow and no
 * later step runs: (1) wait until every event of the period is delivered to all its subscribers
 * and booked — failing with UnbookedMoneyEvents at once for a money event a closed ledger
 * rejected, and for anything still missing after `maxWaitMs` — (2) trial balance, (3) revenue
 * summary, (4) lock the period and publish period.closed.
 */
export async function monthlyCloseWorkflow({
  period,
  pollInitialMs = 5_000,
  pollMaxMs = 300_000,
  maxWaitMs = DEFAULT_CLOSE_MAX_WAIT_MS,
}: MonthlyCloseInput): Promise<MonthlyCloseResult> {
  // A close recorded before the bound existed replays as it ran: waiting with no end and
  // blind to rejected money events.
  const failsLoudly = patched(CLOSE_BOUND_PATCH);
  const startedAt = Date.now();
  let delay = pollInitialMs;
  let waitedChecks = 0;
  for (;;) {
    waitedChecks += 1;
    const check = await accounting.countUndeliveredEvents.executeWithOptions({ summary: `1. check ${period} for undelivered events` }, [{ period }]);
    const { undelivered, unposted } = check;
    const unbooked = check.unbooked ?? [];
    if (!failsLoudly) {
      if (undelivered === 0 && unposted === 0) break;
    } else {
      // Nothing will book these by itself: the ledger that should have was closed.
      if (unbooked.some((e) => e.reason === 'ledger-closed')) unbookedMoneyEvents(period, check, null);
      if (undelivered === 0 && unposted === 0 && unbooked.length === 0) break;
      if (Date.now() - startedAt >= maxWaitMs) unbookedMoneyEvents(period, check, Date.now() - startedAt);
    }
    const wait = failsLoudly ? Math.min(delay, maxWaitMs - (Date.now() - startedAt)) : delay;
    log.info('period still has events in flight; waiting', { period, undelivered, unposted, unbooked: check.unbookedTotal ?? 0, nextCheckMs: wait });
    await sleep(wait);
    delay = Math.min(delay * 2, pollMaxMs);
  }

  let trial;
  try {
    trial = await accounting.trialBalance.executeWithOptions({ summary: `2. trial balance ${period}` }, [{ period }]);
  } catch (err) {
    stepFailed('trial balance', err);
  }
  let summary;
  try {
    summary = await accounting.revenueSummary.executeWithOptions({ summary: `3. revenue summary ${period}` }, [{ period }]);
  } catch (err) {
    stepFailed('revenue summary', err);
  }
  try {
    await accounting.lockPeriod.executeWithOptions({ summary: `4. lock ${period}` }, [{ period }]);
  } catch (err) {
    stepFailed('lock period', err);
  }
  await publish(PeriodClosed, {
    id: `accounting:${period}:closed`,
    correlationId: `period:${period}`,
    data: { period, totalDebitCents: trial.totalDebitCents, totalCreditCents: trial.totalCreditCents, summary },
  });
  return { period, trialBalance: trial.rows, summary, waitedChecks };
}

/**
 * What the `accounting-monthly-close` Schedule starts (00:30 UTC on the 1st): closes the month
 * before the scheduled time as the child `close:<period>`. A close that already succeeded is not
 * run again; a failed one runs again when the schedule is triggered (or ops run it with
 * `POST /admin/accounting/periods/:period/close`).
 */
export async function monthlyCloseScheduledWorkflow(input: MonthlyCloseScheduledInput = {}): Promise<MonthlyCloseScheduledResult> {
  const info = workflowInfo();
  const scheduledAt = (info.searchAttributes?.TemporalScheduledStartTime as unknown[] | undefined)?.[0];
  const at = scheduledAt instanceof Date ? scheduledAt : typeof scheduledAt === 'string' ? new Date(scheduledAt) : info.startTime;
  const period = input.period ?? shiftPeriod(periodOf(at), -1);
  try {
    return await executeChild(monthlyCloseWorkflow, {
      workflowId: monthlyCloseWorkflowId(period),
      taskQueue: ACCOUNTING_TASK_QUEUE,
      args: [{ period }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      staticSummary: `Close ${period}`,
    });
  } catch (err) {
    if ((err as Error | undefined)?.name === 'WorkflowExecutionAlreadyStartedError') return { period, outcome: 'already-closed' };
    throw err;
  }
}
