/** Month-end close: waits for undelivered events, then trial balance → summary → lock; a failed step stops the rest. */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureMonthlyCloseSchedule, MONTHLY_CLOSE_CALENDAR } from '../../workers/monthly-close-schedule';
import { ACCOUNTING_TASK_QUEUE, MONTHLY_CLOSE_SCHEDULE_ID, monthlyCloseWorkflowId } from '../../workflows/accounting/contract';
import type { monthlyCloseScheduledWorkflow, monthlyCloseWorkflow } from '../../workflows/accounting/workflows';
import { FailureType } from '../../workflows/failures';
import { connectTestEnv, createTimeSkippingEnv } from '../support/temporal';
import { startSystem, uniqueId, type RunningSystem } from '../support/system';
import { accountingActivities, inPeriod, itemSold, membershipCaptured, purchaseCaptured, uniquePeriod } from './support';

interface PeriodRow {
  status: string;
  trial_balance: { totalDebitCents: number; totalCreditCents: number } | null;
  summary: Record<string, number> | null;
}
const periodRow = async (system: RunningSystem, period: string): Promise<PeriodRow | undefined> =>
  (await system.database.sql<PeriodRow[]>`select status, trial_balance, summary from accounting.periods where period = ${period}`)[0];

describe('monthlyCloseWorkflow (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let system: RunningSystem;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    system = await startSystem({ env, domains: ['accounting'] });
  });
  afterAll(async () => {
    await system?.stop();
    await env?.teardown();
  });

  const startClose = (period: string, maxWaitMs?: number) =>
    system.client.workflow.start<typeof monthlyCloseWorkflow>('monthlyCloseWorkflow', {
      workflowId: monthlyCloseWorkflowId(period),
      taskQueue: ACCOUNTING_TASK_QUEUE,
      args: [{ period, pollInitialMs: 60_000, pollMaxMs: 600_000, ...(maxWaitMs ? { maxWaitMs } : {}) }],
    });

  test('the close waits for undelivered events, then runs the trial balance, the revenue summary and the lock', async () => {
    const period = uniquePeriod();
    const acts = accountingActivities(system.database);
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    await acts.postEvent(membershipCaptured(customerId, period, 4900, inPeriod(period)));
    await acts.postEvent(purchaseCaptured(customerId, orderId, 'itm_1', 8000, inPeriod(period, 1)));
    await acts.postEvent(itemSold({ orderId, customerId, itemId: 'itm_1', priceCents: 8000, costCents: 3000 }, inPeriod(period, 2)));
    // An event of the period that one subscriber has not received yet.
    const pendingId = `test:${uniqueId('e')}`;
    await system.database.sql`
      insert into events.event_log (id, type, occurred_at, correlation_id, source_domain, source_workflow_id, source_run_id, data, subscribers)
      values (${pendingId}, 'test.pending', ${inPeriod(period, 3)}, 'test', 'orders', 'test', 'test', '{}'::jsonb, ${JSON.stringify(['orders.test-subscriber'])}::jsonb)`;

    const handle = await startClose(period);
    await env.sleep('2 hours');
    expect(await periodRow(system, period)).toMatchObject({ status: 'open', trial_balance: null, summary: null });

    await system.database
      .sql`insert into events.deliveries (event_id, subscriber, workflow_id, outcome) values (${pendingId}, 'orders.test-subscriber', 'test', 'signalled')`;
    const result = await handle.result();
    expect(result.waitedChecks).toBeGreaterThan(2);
    expect(result.summary).toEqual({
      membershipRevenueCents: 4900,
      salesRevenueCents: 8000,
      shippingRevenueCents: 0,
      refundsCents: 0,
      netRevenueCents: 12900,
      costOfGoodsSoldCents: 3000,
      grossMarginCents: 9900,
      entries: 3,
      customers: 1,
    });
    const row = await periodRow(system, period);
    expect(row).toMatchObject({ status: 'locked', trial_balance: { totalDebitCents: 15900, totalCreditCents: 15900 }, summary: result.summary });
    const closed = await system.database.sql`select type from events.event_log where id = ${`accounting:${period}:closed`}`;
    expect(closed).toEqual([{ type: 'period.closed' }]);
    // Locked: the database refuses any further posting into the period.
    await expect(
      system.database
        .sql`update accounting.journal_lines set debit_cents = debit_cents where entry_id in (select id from accounting.journal_entries where period = ${period})`,
    ).rejects.toThrow(/locked/);
  });

  test('a failed step leaves the close Failed and the later steps not run', async () => {
    const period = uniquePeriod();
    const acts = accountingActivities(system.database);
    await acts.postEvent(membershipCaptured(uniqueId('c'), period, 4900, inPeriod(period)));
    // A deliberately broken row, written with the balance triggers disabled inside this transaction.
    const broken = `je:test:${uniqueId('broken')}`;
    await system.database.sql.begin(async (tx) => {
      await tx`alter table accounting.journal_lines disable trigger journal_lines_balanced`;
      await tx`alter table accounting.journal_entries disable trigger journal_entries_have_lines`;
      await tx`insert into accounting.journal_entries (id, customer_id, period, source_event_id, source_event_type, description, customer_seq, occurred_at)
               values (${broken}, ${uniqueId('c')}, ${period}, ${broken}, 'test', 'broken on purpose', 1, ${inPeriod(period)})`;
      await tx`insert into accounting.journal_lines (entry_id, account, debit_cents, credit_cents) values (${broken}, 'cash', 999, 0)`;
      await tx`alter table accounting.journal_lines enable trigger journal_lines_balanced`;
      await tx`alter table accounting.journal_entries enable trigger journal_entries_have_lines`;
    });

    const handle = await startClose(period);
    const err: unknown = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe(FailureType.LedgerUnbalanced);
    expect((await handle.describe()).status.name).toBe('FAILED');

    // Step 2 ran (and recorded what it found); steps 3 and 4 did not.
    const row = await periodRow(system, period);
    expect(row).toMatchObject({ status: 'open', summary: null, trial_balance: { totalDebitCents: 4900 + 999, totalCreditCents: 4900 } });
    expect(await system.database.sql`select 1 from events.event_log where id = ${`accounting:${period}:closed`}`).toHaveLength(0);

    // The database is shared: later tests check the whole ledger balances, so the broken row goes.
    await system.database.sql.begin(async (tx) => {
      await tx`alter table accounting.journal_lines disable trigger journal_lines_balanced`;
      await tx`alter table accounting.journal_entries disable trigger journal_entries_have_lines`;
      await tx`delete from accounting.journal_lines where entry_id = ${broken}`;
      await tx`delete from accounting.journal_entries where id = ${broken}`;
      await tx`alter table accounting.journal_lines enable trigger journal_lines_balanced`;
      await tx`alter table accounting.journal_entries enable trigger journal_entries_have_lines`;
    });
  });

  test('a money event still in flight when maxWaitMs has passed fails the close with UnbookedMoneyEvents, naming it and what else is undelivered', async () => {
    const period = uniquePeriod();
    const acts = accountingActivities(system.database);
    const booked = membershipCaptured(uniqueId('c'), period, 4900, inPeriod(period));
    await acts.postEvent(booked);
    // Delivered to a ledger that never books it (the run went away holding it), and an event
    // that one subscriber never received.
    const stuck = purchaseCaptured(uniqueId('c'), uniqueId('o'), 'itm_1', 8000, inPeriod(period, 1));
    const pendingId = `test:${uniqueId('e')}`;
    const { sql } = system.database;
    await sql`
      insert into events.event_log (id, type, occurred_at, correlation_id, source_domain, source_workflow_id, source_run_id, data, subscribers)
      values (${stuck.id}, ${stuck.type}, ${stuck.occurredAt}, ${stuck.correlationId}, 'payment', 'test', 'test', ${JSON.stringify(stuck.data)}::jsonb, ${JSON.stringify(['accounting.book-payment-captured'])}::jsonb),
             (${pendingId}, 'test.pending', ${inPeriod(period, 2)}, 'test', 'orders', 'test', 'test', '{}'::jsonb, ${JSON.stringify(['orders.test-subscriber'])}::jsonb)`;
    await sql`insert into events.deliveries (event_id, subscriber, workflow_id, outcome) values (${stuck.id}, 'accounting.book-payment-captured', 'test', 'signalled')`;

    const handle = await startClose(period, 3_600_000);
    // Before: step 1 polled for as long as the event stayed unbooked (here: for ever).
    const err: unknown = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure.type).toBe(FailureType.UnbookedMoneyEvents);
    expect(failure.message).toContain(`${stuck.id} (payment.captured, customer ${stuck.data.customerId}: still in flight)`);
    expect(failure.message).toContain(`${pendingId} (test.pending, not delivered to orders.test-subscriber)`);
    const details = failure.details?.[0] as { unbooked: unknown[]; undeliveredEvents: unknown[]; waitedMs: number };
    expect(details.unbooked).toEqual([{ eventId: stuck.id, type: 'payment.captured', customerId: stuck.data.customerId, reason: 'in-flight' }]);
    expect(details.undeliveredEvents).toEqual([{ eventId: pendingId, type: 'test.pending', missing: ['orders.test-subscriber'] }]);
    expect(details.waitedMs).toBeGreaterThanOrEqual(3_600_000);
    expect(details.waitedMs).toBeLessThan(3_600_000 + 600_000);
    // Steps 2-4 did not run.
    expect((await periodRow(system, period))?.trial_balance ?? null).toBeNull();
    expect(await sql`select 1 from events.event_log where id = ${`accounting:${period}:closed`}`).toHaveLength(0);
    // The database is shared: no other test should meet a capture that no ledger will ever book.
    await sql`delete from events.deliveries where event_id = ${stuck.id}`;
    await sql`delete from events.event_log where id in ${sql([stuck.id, pendingId])}`;
  });

  test('the scheduled run closes the month once: a second run finds it closed', async () => {
    const period = uniquePeriod();
    const first = await system.client.workflow.execute<typeof monthlyCloseScheduledWorkflow>('monthlyCloseScheduledWorkflow', {
      workflowId: `test-schedule-run:${period}:1`,
      taskQueue: ACCOUNTING_TASK_QUEUE,
      args: [{ period }],
    });
    expect(first).toMatchObject({ period });
    const again = await system.client.workflow.execute<typeof monthlyCloseScheduledWorkflow>('monthlyCloseScheduledWorkflow', {
      workflowId: `test-schedule-run:${period}:2`,
      taskQueue: ACCOUNTING_TASK_QUEUE,
      args: [{ period }],
    });
    expect(again).toEqual({ period, outcome: 'already-closed' });
  });
});

describe('accounting-monthly-close schedule', () => {
  test('a Schedule exists after start with the monthly 00:30 UTC spec, and ensuring it again updates it', async () => {
    const env = await connectTestEnv();
    try {
      const first = await ensureMonthlyCloseSchedule(env.client);
      expect(['created', 'updated']).toContain(first);
      expect(await ensureMonthlyCloseSchedule(env.client)).toBe('updated');
      const description = await env.client.schedule.getHandle(MONTHLY_CLOSE_SCHEDULE_ID).describe();
      expect(description.spec.timezone).toBe('UTC');
      expect(description.spec.calendars).toHaveLength(1);
      expect(description.spec.calendars?.[0]).toMatchObject({
        minute: [{ start: MONTHLY_CLOSE_CALENDAR.minute, end: MONTHLY_CLOSE_CALENDAR.minute, step: 1 }],
        hour: [{ start: 0, end: 0, step: 1 }],
        dayOfMonth: [{ start: 1, end: 1, step: 1 }],
      });
      expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'monthlyCloseScheduledWorkflow', taskQueue: ACCOUNTING_TASK_QUEUE });
      const next = description.info.nextActionTimes[0];
      expect(next.getUTCDate()).toBe(1);
      expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([0, 30]);
    } finally {
      await env.teardown();
    }
  });
});
