/**
 * The close fails loudly when money of its period has no journal entry, and ops' remedy works:
 * rebook the customer's ledger over the admin API, then run the close again.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import request from 'supertest';
import { ensureAdminAccount } from '../../api/admin/bootstrap';
import { ACCOUNTING_TASK_QUEUE, ledgerWorkflowId, monthlyCloseWorkflowId, type UnbookedMoneyEvent } from '../../workflows/accounting/contract';
import type { ledgerWorkflow, monthlyCloseWorkflow } from '../../workflows/accounting/workflows';
import { ledgerStateQuery } from '../../workflows/accounting/workflows';
import type { EventEnvelope } from '../../workflows/bus/contract';
import { FailureType } from '../../workflows/failures';
import { startApi, uniqueEmail, type ApiHarness } from '../api/harness';
import { eventually, startSystem, uniqueId, type RunningSystem } from '../support/system';
import { inPeriod, membershipCaptured, uniquePastPeriod } from './support';

let api: ApiHarness;
let system: RunningSystem;
let admin: { Authorization: string };
beforeAll(async () => {
  api = await startApi();
  system = await startSystem({ env: api.env, domains: ['accounting'] });
  const email = uniqueEmail('ops');
  await ensureAdminAccount(api.database.db, { email, password: 'ops admin password' });
  const login = await request(api.app).post('/v1/auth/login').send({ email, password: 'ops admin password' }).expect(200);
  admin = { Authorization: `Bearer ${login.body.token as string}` };
});
afterAll(async () => {
  await system?.stop();
  await api?.close();
});

/** Writes an event into the log as the bus does, with the given outcome of its delivery to accounting (none: in flight). */
async function logEvent(event: EventEnvelope, accountingOutcome?: 'rejected' | 'signalled') {
  const { sql } = system.database;
  const subscriber = 'accounting.book-payment-captured';
  await sql`
    insert into events.event_log (id, type, occurred_at, correlation_id, causation_id, source_domain, source_workflow_id, source_run_id, data, subscribers)
    values (${event.id}, ${event.type}, ${event.occurredAt}, ${event.correlationId}, null, ${event.source.domain}, ${event.source.workflowId}, ${event.source.runId},
            ${JSON.stringify(event.data)}::jsonb, ${JSON.stringify([subscriber])}::jsonb)`;
  if (accountingOutcome) {
    await sql`insert into events.deliveries (event_id, subscriber, workflow_id, outcome, detail)
              values (${event.id}, ${subscriber}, ${ledgerWorkflowId((event.data as { customerId: string }).customerId)}, ${accountingOutcome}, 'workflow not running')`;
  }
}
const entriesOf = async (eventId: string) => (await system.database.sql`select 1 from accounting.journal_entries where source_event_id = ${eventId}`).length;
const periodRow = async (period: string) =>
  (
    await system.database.sql<{ status: string; trial_balance: unknown; summary: { membershipRevenueCents: number } | null }[]>`
    select status, trial_balance, summary from accounting.periods where period = ${period}`
  )[0];

describe('a close with a money event its closed ledger rejected', () => {
  test('fails with UnbookedMoneyEvents naming the event, and succeeds after the rebook', async () => {
    const period = uniquePastPeriod();
    const customerId = uniqueId('c');
    const capture = membershipCaptured(customerId, period, 4900, inPeriod(period));
    // What the bus left behind when the ledger was terminated: the capture in the log, its delivery
    // to the ledger rejected, no entry.
    await logEvent(capture, 'rejected');

    const first = await system.client.workflow.start<typeof monthlyCloseWorkflow>('monthlyCloseWorkflow', {
      workflowId: monthlyCloseWorkflowId(period),
      taskQueue: ACCOUNTING_TASK_QUEUE,
      args: [{ period }],
    });
    // Before: rejected deliveries were left out of step 1's count and the period closed without the capture.
    const err: unknown = await first.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(FailureType.UnbookedMoneyEvents);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`${capture.id} (payment.captured, customer ${customerId}: ledger closed)`);
    expect(failure.details?.[0]).toMatchObject({
      period,
      unbookedTotal: 1,
      unbooked: [{ eventId: capture.id, type: 'payment.captured', customerId, reason: 'ledger-closed' } satisfies UnbookedMoneyEvent],
    });
    // No later step ran: no trial balance, no summary, no lock, no period.closed.
    expect((await periodRow(period))?.trial_balance ?? null).toBeNull();
    expect((await periodRow(period))?.status ?? 'open').toBe('open');
    expect(await system.database.sql`select 1 from events.event_log where id = ${`accounting:${period}:closed`}`).toHaveLength(0);

    // Ops' remedy, step 1: rebook the customer's ledger (a reason is required).
    await request(api.app).post(`/admin/accounting/ledgers/${customerId}/rebook`).set(admin).send({}).expect(400);
    const rebook = await request(api.app)
      .post(`/admin/accounting/ledgers/${customerId}/rebook`)
      .set(admin)
      .send({ reason: 'close failed: capture rejected by a terminated ledger' })
      .expect(200);
    expect(rebook.body).toMatchObject({
      customerId,
      workflowId: ledgerWorkflowId(customerId),
      outcome: 'started',
      unbookedEvents: [{ eventId: capture.id, type: 'payment.captured' }],
    });
    await eventually(async () => ((await entriesOf(capture.id)) === 1 ? true : undefined), 30_000, 'the capture booked by the sweep');
    const audit = await eventually(
      async () => {
        const [row] = await system.database.sql<{ action: string; target: string; reason: string; outcome: string }[]>`
        select action, target, reason, outcome from admin.audit_log where target = ${ledgerWorkflowId(customerId)} and status = 200 order by id desc limit 1`;
        return row;
      },
      10_000,
      'the audit row of the rebook',
    );
    expect(audit).toEqual({
      action: 'rebook-ledger',
      target: ledgerWorkflowId(customerId),
      reason: 'close failed: capture rejected by a terminated ledger',
      outcome: 'ok',
    });

    // Step 2: run the close again (a failed close:<period> may run again; a succeeded one never).
    const again = await request(api.app).post(`/admin/accounting/periods/${period}/close`).set(admin).send({ reason: 'capture rebooked' }).expect(200);
    expect(again.body).toMatchObject({ period, workflowId: monthlyCloseWorkflowId(period), outcome: 'started' });
    expect(again.body.runId).not.toBe(first.firstExecutionRunId);
    const result = await system.client.workflow.getHandle<typeof monthlyCloseWorkflow>(monthlyCloseWorkflowId(period), again.body.runId as string).result();
    expect(result.summary).toMatchObject({ membershipRevenueCents: 4900, entries: 1, customers: 1 });
    expect(await periodRow(period)).toMatchObject({ status: 'locked', summary: { membershipRevenueCents: 4900 } });
    const done = await request(api.app).post(`/admin/accounting/periods/${period}/close`).set(admin).send({ reason: 'once more' }).expect(200);
    expect(done.body).toMatchObject({ outcome: 'already-closed', runId: again.body.runId });
    await system.client.workflow.getHandle(ledgerWorkflowId(customerId)).terminate('test done');
  });
});

describe('ops calls', () => {
  test('a rebook makes a running ledger sweep the event log', async () => {
    const customerId = uniqueId('c');
    // A ledger started without an event (as a rebook starts one), running.
    const ledger = await system.client.workflow.start<typeof ledgerWorkflow>('ledgerWorkflow', {
      workflowId: ledgerWorkflowId(customerId),
      taskQueue: ACCOUNTING_TASK_QUEUE,
      args: [{ customerId }],
    });
    await eventually(async () => ((await ledger.query(ledgerStateQuery)).sweeps === 1 ? true : undefined), 30_000, 'the first sweep');
    const period = uniquePastPeriod();
    const capture = membershipCaptured(customerId, period, 1900, inPeriod(period));
    await logEvent(capture, 'signalled');

    const rebook = await request(api.app)
      .post(`/admin/accounting/ledgers/${customerId}/rebook`)
      .set(admin)
      .send({ reason: 'a capture the ledger never booked' })
      .expect(200);
    expect(rebook.body).toMatchObject({ outcome: 'signalled', runId: ledger.firstExecutionRunId, unbookedEvents: [{ eventId: capture.id }] });
    await eventually(async () => ((await entriesOf(capture.id)) === 1 ? true : undefined), 30_000, 'the capture booked');
    expect(await ledger.query(ledgerStateQuery)).toMatchObject({ sweeps: 2, run: 1, applied: 1 });
    await ledger.terminate('test done');
  });

  test('the close of a period that has not ended is refused, and every call needs a reason', async () => {
    const res = await request(api.app).post('/admin/accounting/periods/2999-01/close').set(admin).send({ reason: 'too early' }).expect(400);
    expect(res.body.detail).toMatch(/has not ended/);
    await request(api.app).post('/admin/accounting/periods/1999-01/close').set(admin).send({}).expect(400);
    await request(api.app).post('/admin/accounting/periods/1999-13/close').set(admin).send({ reason: 'bad period' }).expect(400);
  });
});
