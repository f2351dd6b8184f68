/**
 * Accounting workflows: `ledgerWorkflow` books each customer's money events in causal order, and
 * `monthlyCloseWorkflow` closes a period in sequential steps (run by a Temporal Schedule through
 * `monthlyCloseScheduledWorkflow`).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  WorkflowIdReusePolicy,
  condition,
  continueAsNew,
  defineQuery,
  executeChild,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { AccountingActivities } from '../../activities/accounting';
import type { EventEnvelope } from '../bus/contract';
import { Inbox, publish } from '../bus/publish';
import { FailureType } from '../failures';
import { PaymentCaptured, PaymentRefunded } from '../payment/contract';
import {
  ACCOUNTING_TASK_QUEUE,
  ItemSold,
  PeriodClosed,
  monthlyCloseWorkflowId,
  periodOf,
  shiftPeriod,
  type LedgerCarriedState,
  type LedgerState,
  type LedgerWorkflowInput,
  type MonthlyCloseInput,
  type MonthlyCloseResult,
} from './contract';

const accounting = proxyActivities<AccountingActivities>({
  startToCloseTimeout: '30 seconds',
  // No attempt limit: a database outage only delays the books. Typed failures are non-retryable.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const BOOKED = [PaymentCaptured, PaymentRefunded, ItemSold];
const DEFAULT_EVENTS_PER_RUN = 200;
const RECENT_IDS_KEPT = 500;

export const ledgerStateQuery = defineQuery<LedgerState>('ledgerState');

function customerOf(event: EventEnvelope): string {
  const customerId = (event.data as { customerId?: unknown }).customerId;
  if (typeof customerId !== 'string') throw ApplicationFailure.create({ type: FailureType.InvalidEvent, message: `${event.id} names no customer`, nonRetryable: true });
  return customerId;
}
const chargeKeyOf = (event: EventEnvelope): string => (event.data as { chargeKey: string }).chargeKey;

/**
 * One customer's ledger (`ledger:<customerId>`), started by the first money event of the customer
 * and never finishing. Applies events one at a time in arrival order; a refund is held until the
 * entry of the capture it refunds exists. Continues as new every `eventsPerRun` applied events (or
 * when Temporal suggests it), carrying what it has not applied yet and its dedupe state.
 */
export async function ledgerWorkflow(input: LedgerWorkflowInput): Promise<void> {
  const carried = input.state;
  const inbox = new Inbox(input.event);
  const eventsPerRun = input.eventsPerRun ?? DEFAULT_EVENTS_PER_RUN;
  const customerId = carried?.customerId ?? customerOf(input.event!);
  const queue: EventEnvelope[] = [...(carried?.pending ?? [])];
  const recentIds: string[] = [...(carried?.recentIds ?? [])];
  const recent = new Set(recentIds);
  const captured = new Set(carried?.capturedChargeKeys ?? []);
  const held = new Map<string, EventEnvelope[]>();
  const run = (carried?.run ?? 0) + 1;
  let applied = carried?.applied ?? 0;
  let appliedThisRun = 0;

  setHandler(ledgerStateQuery, () => ({
    customerId,
    run,
    applied,
    appliedThisRun,
    heldRefunds: [...held.keys()],
    queued: queue.length,
  }));

  const drainInbox = (): void => {
    for (let e = inbox.take(BOOKED); e; e = inbox.take(BOOKED)) queue.push(e);
  };
  const remember = (id: string): void => {
    recent.add(id);
    recentIds.push(id);
    while (recentIds.length > RECENT_IDS_KEPT) recent.delete(recentIds.shift()!);
  };

  for (;;) {
    if (appliedThisRun >= eventsPerRun || workflowInfo().continueAsNewSuggested) {
      drainInbox();
      const state: LedgerCarriedState = {
        customerId,
        pending: [...queue, ...[...held.values()].flat()],
        recentIds,
        capturedChargeKeys: [...captured],
        applied,
        run,
      };
      log.info('ledger continues as new', { customerId, run, applied, pending: state.pending.length });
      await continueAsNew<typeof ledgerWorkflow>({ state, eventsPerRun });
    }
    await condition(() => queue.length > 0 || inbox.has(BOOKED));
    drainInbox();
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
    throw ApplicationFailure.create({ type: cause.type ?? 'CloseStepFailed', message: `${step} failed: ${cause.message}`, nonRetryable: true, details: cause.details ?? undefined });
  }
  throw err;
}

/**
 * Closes one period (`close:<period>`), step after step; a failed step fails the workflow and no
 * later step runs: (1) wait until every event of the period is delivered to all its subscribers
 * and booked, (2) trial balance, (3) revenue summary, (4) lock the period and publish period.closed.
 */
export async function monthlyCloseWorkflow({ period, pollInitialMs = 5_000, pollMaxMs = 300_000 }: MonthlyCloseInput): Promise<MonthlyCloseResult> {
  let delay = pollInitialMs;
  let waitedChecks = 0;
  for (;;) {
    waitedChecks += 1;
    const { undelivered, unposted } = await accounting.countUndeliveredEvents.executeWithOptions({ summary: `1. check ${period} for undelivered events` }, [{ period }]);
    if (undelivered === 0 && unposted === 0) break;
    log.info('period still has events in flight; waiting', { period, undelivered, unposted, nextCheckMs: delay });
    await sleep(delay);
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
 * run again; a failed one runs again when the schedule is triggered (or ops reset it).
 */
export async function monthlyCloseScheduledWorkflow(input: { period?: string } = {}): Promise<MonthlyCloseResult | { period: string; outcome: 'already-closed' }> {
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
