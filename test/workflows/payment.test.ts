/**
 * Payment: chargeWorkflow against the real PSP simulator — captured once through flaky answers and
 * resets (dev server), dunning over days on the time-skipping server — and membershipWorkflow
 * billing many periods with continue-as-new.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Long from 'long';
import { savePaymentMethod } from '../../store/payment/payment-methods';
import { eventSignal, type EventEnvelope } from '../../workflows/bus/contract';
import { membershipCaptured, purchaseCaptured } from '../accounting/support';
import {
  MembershipRenewalDue,
  ORDERS_TASK_QUEUE,
  PurchaseRequested,
  membershipStatusQuery,
  membershipWorkflowId,
  type MembershipWorkflowInput,
  type PurchaseRequestedData,
} from '../../workflows/orders/contract';
import type { membershipWorkflow } from '../../workflows/orders/membership';
import { DUNNING_SCHEDULE_DAYS, PAYMENT_TASK_QUEUE, chargeWorkflowId, purchaseChargeKey } from '../../workflows/payment/contract';
import type { chargeWorkflow } from '../../workflows/payment/workflows';
import { CustomerIdAttribute } from '../../workflows/search-attributes';
import { createPspSimulator, type PspRunningServer, type PspSimulator } from '../../simulators/psp/server';
import { createTimeSkippingEnv } from '../support/temporal';
import { eventually, startSystem, uniqueId, type RunningSystem } from '../support/system';

const DAY_MS = 24 * 60 * 60 * 1000;

function envelope<D>(type: string, id: string, correlationId: string, data: D): EventEnvelope<D> {
  return {
    id,
    type,
    occurredAt: new Date().toISOString(),
    correlationId,
    causationId: null,
    source: { domain: 'orders', workflowId: 'test', runId: 'test' },
    data,
  };
}

const purchaseRequested = (data: PurchaseRequestedData) =>
  envelope(PurchaseRequested.type, `order:${data.orderId}:purchase:${data.itemId}`, data.orderId, data);

/** Captures per charge key (the attempt suffix stripped) in the PSP's ledger. */
function capturesPerChargeKey(psp: PspSimulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of psp.ledger) {
    const key = c.idempotencyKey.replace(/:attempt-\d+$/, '');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('chargeWorkflow on the dev server', () => {
  let system: RunningSystem;
  let psp: PspSimulator;
  let pspServer: PspRunningServer;
  beforeAll(async () => {
    psp = createPspSimulator({ slowMs: 200 });
    pspServer = await psp.start(0);
    system = await startSystem({ pspUrl: pspServer.url, domains: ['payment'] });
  });
  afterAll(async () => {
    await system?.stop();
    await pspServer?.close();
  });

  const startCharge = async (data: PurchaseRequestedData) =>
    system.client.workflow.start<typeof chargeWorkflow>('chargeWorkflow', {
      taskQueue: PAYMENT_TASK_QUEUE,
      workflowId: chargeWorkflowId(purchaseChargeKey(data.orderId, data.itemId)),
      args: [{ event: purchaseRequested(data) }],
    });

  it('captures a flaky card once although the PSP answered 503 twice, and publishes payment.captured', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    await savePaymentMethod(system.database.db, customerId, 'tok_flaky');
    const handle = await startCharge({ orderId, customerId, itemId: 'itm_1', priceCents: 3000, reason: 'member' });
    await expect(handle.result()).resolves.toMatchObject({ status: 'captured', attempts: 1 });
    const key = purchaseChargeKey(orderId, 'itm_1');
    expect(psp.requestsByKey.get(`${key}:attempt-1`)).toBe(3);
    expect(capturesPerChargeKey(psp).get(key)).toBe(1);
    const [event] = await system.database.sql<{ id: string; data: { amountCents: number; purpose: string; orderId: string } }[]>`
      select id, data from events.event_log where correlation_id = ${orderId} and type = 'payment.captured'`;
    expect(event).toMatchObject({ id: `charge:${key}:captured`, data: { amountCents: 3000, purpose: 'purchase', orderId } });
    const [row] = await system.database.sql<{ status: string }[]>`select status from payment.charges where charge_key = ${key}`;
    expect(row.status).toBe('captured');
  });

  it('never charges a captured charge key again when the workflow is reset and re-run', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    await savePaymentMethod(system.database.db, customerId, 'tok_visa');
    const handle = await startCharge({ orderId, customerId, itemId: 'itm_2', priceCents: 2500, reason: 'overdue' });
    await handle.result();
    const { runId } = (await system.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: handle.workflowId },
      workflowTaskFinishEventId: Long.fromNumber(3),
      reason: 'test: re-run the charge',
      requestId: `reset-${orderId}`,
    })) as { runId?: string | null };
    const rerun = system.client.workflow.getHandle(handle.workflowId, runId!);
    await expect(rerun.result()).resolves.toMatchObject({ status: 'captured', attempts: 1 });
    const key = purchaseChargeKey(orderId, 'itm_2');
    expect(capturesPerChargeKey(psp).get(key)).toBe(1);
    // The re-run found the capture in payment.charge_attempts and did not even call the PSP.
    expect(psp.requestsByKey.get(`${key}:attempt-1`)).toBe(1);
    const events = await system.database.sql`select id from events.event_log where correlation_id = ${orderId} and type = 'payment.captured'`;
    expect(events).toHaveLength(1);
  });

  it('captures once when the PSP took the charge and lost its answer, and publishes payment.captured once', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    await savePaymentMethod(system.database.db, customerId, 'tok_visa');
    psp.faults.loseAnswers = 1;
    const handle = await startCharge({ orderId, customerId, itemId: 'itm_lost', priceCents: 1800, reason: 'member' });
    await expect(handle.result()).resolves.toMatchObject({ status: 'captured', attempts: 1 });
    const key = purchaseChargeKey(orderId, 'itm_lost');
    // The first answer was lost after the capture; the retry under the same key got it replayed.
    expect(psp.requestsByKey.get(`${key}:attempt-1`)).toBeGreaterThanOrEqual(2);
    expect(capturesPerChargeKey(psp).get(key)).toBe(1);
    const events = await system.database.sql`select id from events.event_log where correlation_id = ${orderId} and type = 'payment.captured'`;
    expect(events).toHaveLength(1);
  });

  it("ends in payment.failed with the PSP's reason, not a failed workflow, when the PSP refuses a charge for good", async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    await savePaymentMethod(system.database.db, customerId, 'tok_visa');
    psp.faults.refuseRate = 1;
    try {
      const handle = await startCharge({ orderId, customerId, itemId: 'itm_refused', priceCents: 2100, reason: 'member' });
      await expect(handle.result()).resolves.toMatchObject({ status: 'failed', attempts: 1, failureReason: expect.stringMatching(/^psp_refused: /) });
    } finally {
      psp.faults.refuseRate = 0;
    }
    const [failed] = await system.database.sql<{ id: string; data: { reason: string } }[]>`
      select id, data from events.event_log where correlation_id = ${orderId} and type = 'payment.failed'`;
    expect(failed).toMatchObject({
      id: `charge:${purchaseChargeKey(orderId, 'itm_refused')}:failed`,
      data: { reason: expect.stringMatching(/^psp_refused: .*400/) },
    });
    const [row] = await system.database.sql<
      { status: string }[]
    >`select status from payment.charges where charge_key = ${purchaseChargeKey(orderId, 'itm_refused')}`;
    expect(row.status).toBe('failed');
  });

  it('refuses to record a second capture of a charge key in the database', async () => {
    const key = `purchase:${uniqueId('o')}:itm_3`;
    const sql = system.database.sql;
    await sql`insert into payment.charges (charge_key, customer_id, purpose, amount_cents, status) values (${key}, 'c_x', 'purchase', 100, 'pending')`;
    await sql`insert into payment.charge_attempts (charge_key, attempt, idempotency_key, status, psp_charge_id, attempted_at) values (${key}, 1, ${`${key}:attempt-1`}, 'captured', 'ch_a', now())`;
    await expect(
      sql`insert into payment.charge_attempts (charge_key, attempt, idempotency_key, status, psp_charge_id, attempted_at) values (${key}, 2, ${`${key}:attempt-2`}, 'captured', 'ch_b', now())`,
    ).rejects.toThrow(/charge_attempts_one_capture_per_key/);
  });
});

describe('membershipWorkflow over many periods (dev server)', () => {
  let system: RunningSystem;
  let psp: PspSimulator;
  let pspServer: PspRunningServer;
  beforeAll(async () => {
    psp = createPspSimulator();
    pspServer = await psp.start(0);
    system = await startSystem({ pspUrl: pspServer.url, domains: ['orders', 'payment'] });
  });
  afterAll(async () => {
    await system?.stop();
    await pspServer?.close();
  });

  /** A member with a card on file whose periods last a second, from 2026-01. */
  async function startFastMembership() {
    const customerId = uniqueId('c');
    await savePaymentMethod(system.database.db, customerId, 'tok_visa');
    const handle = await system.client.workflow.start<typeof membershipWorkflow>('membershipWorkflow', {
      taskQueue: ORDERS_TASK_QUEUE,
      workflowId: membershipWorkflowId(customerId),
      args: [{ customerId, periodLength: '1 second', period: '2026-01' } satisfies MembershipWorkflowInput],
      typedSearchAttributes: [{ key: CustomerIdAttribute, value: customerId }],
    });
    return { customerId, handle };
  }

  it('bills 15 periods, continuing as new each period with a small history per run', async () => {
    const { customerId, handle } = await startFastMembership();
    await eventually(async () => ((await handle.query(membershipStatusQuery)).periodsCompleted >= 15 ? true : undefined), 90_000, '15 periods');
    await handle.terminate('test done');

    const captures = psp.ledger.filter((c) => c.metadata.customerId === customerId);
    const periods = captures.map((c) => c.idempotencyKey.replace(`membership:${customerId}:`, '').replace(/:attempt-\d+$/, ''));
    expect(periods.length).toBeGreaterThanOrEqual(15);
    expect(new Set(periods).size).toBe(periods.length); // one capture per period
    expect(periods.slice(0, 13)).toEqual([
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
      '2026-11',
      '2026-12',
      '2027-01',
    ]);

    const runs = await eventually(
      async () => {
        const found: string[] = [];
        for await (const wf of system.client.workflow.list({ query: `WorkflowId = '${membershipWorkflowId(customerId)}'` })) found.push(wf.runId);
        return found.length >= 15 ? found : undefined;
      },
      30_000,
      'runs listed',
    );
    for (const runId of runs.slice(0, 15)) {
      const history = await system.client.workflow.getHandle(membershipWorkflowId(customerId), runId).fetchHistory();
      expect((history.events ?? []).length).toBeLessThan(60);
    }
    const [row] = await system.database.sql<{ status: string }[]>`select status from orders.memberships where customer_id = ${customerId}`;
    expect(row.status).toBe('active');
  });

  it('bills every period once while signals keep arriving during its hand-overs (continue-as-new)', async () => {
    const { customerId, handle } = await startFastMembership();
    // Throughout, every 25 ms: a redelivery of the first period's outcome and a purchase outcome of
    // the same member. They land on running runs, on runs handing over and on fresh ones: none may
    // be taken for a later period's fee, and no run may hand over badly (a lost outcome stalls it).
    const stale = membershipCaptured(customerId, '2026-01');
    let signalling = true;
    let sent = 0;
    const noise = (async () => {
      for (let n = 0; signalling; n++) {
        const purchase = purchaseCaptured(customerId, `o_${customerId}`, `itm_${n}`, 4900);
        await Promise.all([handle.signal(eventSignal, stale), handle.signal(eventSignal, purchase)]);
        sent += 2;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await eventually(async () => ((await handle.query(membershipStatusQuery)).periodsCompleted >= 6 ? true : undefined), 60_000, '6 periods');
    signalling = false;
    await noise;
    const state = await handle.query(membershipStatusQuery);
    await handle.terminate('test done');
    expect(sent).toBeGreaterThan(50);
    expect(state).toMatchObject({ status: 'active' });
    expect(state.stalled).toBeUndefined();
    // One capture per period, each period's own, in order: no stale outcome stood in for a fee.
    const periods = psp.ledger
      .filter((c) => c.metadata.customerId === customerId)
      .map((c) => c.idempotencyKey.replace(`membership:${customerId}:`, '').replace(/:attempt-\d+$/, ''));
    expect(periods.slice(0, 6)).toEqual(['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06']);
    expect(new Set(periods).size).toBe(periods.length);
  });

  it("suspends the member with the PSP's reason when the PSP refuses the fee for good, instead of waiting forever", async () => {
    const customerId = uniqueId('c');
    await savePaymentMethod(system.database.db, customerId, 'tok_visa');
    psp.faults.refuseRate = 1;
    try {
      const handle = await system.client.workflow.start<typeof membershipWorkflow>('membershipWorkflow', {
        taskQueue: ORDERS_TASK_QUEUE,
        workflowId: membershipWorkflowId(customerId),
        args: [{ customerId, periodLength: '30 days', period: '2026-12' } satisfies MembershipWorkflowInput],
        typedSearchAttributes: [{ key: CustomerIdAttribute, value: customerId }],
      });
      await expect(handle.result()).resolves.toMatchObject({ status: 'suspended', reason: expect.stringContaining('psp_refused') });
    } finally {
      psp.faults.refuseRate = 0;
    }
    const [row] = await system.database.sql<{ status: string }[]>`select status from orders.memberships where customer_id = ${customerId}`;
    expect(row.status).toBe('suspended');
  });

  it("reports a membership stalled when its fee's outcome is overdue, and clears it once payment answers", async () => {
    const customerId = uniqueId('c');
    await savePaymentMethod(system.database.db, customerId, 'tok_visa');
    psp.faults.outageUntil = new Date(Date.now() + DAY_MS).toISOString();
    try {
      const handle = await system.client.workflow.start<typeof membershipWorkflow>('membershipWorkflow', {
        taskQueue: ORDERS_TASK_QUEUE,
        workflowId: membershipWorkflowId(customerId),
        args: [{ customerId, periodLength: '60 days', period: '2026-10', paymentOutcomeBound: '2 seconds' } satisfies MembershipWorkflowInput],
        typedSearchAttributes: [{ key: CustomerIdAttribute, value: customerId }],
      });
      await eventually(async () => ((await handle.query(membershipStatusQuery)).stalled ? true : undefined), 20_000, 'the wait reported stalled');
      expect(await handle.query(membershipStatusQuery)).toMatchObject({
        phase: 'awaiting-payment',
        stalled: expect.stringContaining(`membership:${customerId}:2026-10`),
      });
      psp.faults.outageUntil = null;
      await eventually(async () => ((await handle.query(membershipStatusQuery)).phase === 'paid' ? true : undefined), 60_000, 'the fee paid');
      expect((await handle.query(membershipStatusQuery)).stalled).toBeUndefined();
      await handle.terminate('test done');
    } finally {
      psp.faults.outageUntil = null;
    }
  }, 90_000);
});

describe('dunning (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let system: RunningSystem;
  let psp: PspSimulator;
  let pspServer: PspRunningServer;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    psp = createPspSimulator();
    pspServer = await psp.start(0);
    system = await startSystem({ env, pspUrl: pspServer.url, domains: ['orders', 'payment'] });
  });
  afterAll(async () => {
    await system?.stop();
    await pspServer?.close();
    await env?.teardown();
  });

  it('retries a declined membership fee at +1 d, +3 d and +7 d, then publishes payment.failed and suspends the member', async () => {
    const customerId = uniqueId('c');
    await savePaymentMethod(system.database.db, customerId, 'tok_decline');
    // No search attributes: the time-skipping server has none registered.
    const handle = await system.client.workflow.start<typeof membershipWorkflow>('membershipWorkflow', {
      taskQueue: ORDERS_TASK_QUEUE,
      workflowId: membershipWorkflowId(customerId),
      args: [{ customerId, periodLength: '30 days', period: '2026-11' }],
    });
    await expect(handle.result()).resolves.toMatchObject({ status: 'suspended', period: '2026-11' });

    const key = `membership:${customerId}:2026-11`;
    const attempts = await system.database.sql<{ attempt: number; status: string; decline_code: string; attempted_at: string | Date }[]>`
      select attempt, status, decline_code, attempted_at from payment.charge_attempts where charge_key = ${key} order by attempt`;
    expect(attempts.map((a) => [a.attempt, a.status, a.decline_code])).toEqual([1, 2, 3, 4].map((n) => [n, 'declined', 'card_declined']));
    const first = new Date(attempts[0].attempted_at).getTime();
    const offsets = attempts.slice(1).map((a) => (new Date(a.attempted_at).getTime() - first) / DAY_MS);
    offsets.forEach((days, i) => expect(days).toBeCloseTo(DUNNING_SCHEDULE_DAYS[i], 2));
    // Each attempt had its own key (a declined key is replayed as a decline); nothing was captured.
    expect([...psp.requestsByKey.keys()].filter((k) => k.startsWith(key))).toEqual([1, 2, 3, 4].map((n) => `${key}:attempt-${n}`));
    expect(psp.ledger.filter((c) => c.idempotencyKey.startsWith(key))).toEqual([]);

    const events = await system.database.sql<{ type: string; data: { attempts?: number; reason?: string } }[]>`
      select type, data from events.event_log where correlation_id = ${customerId} order by seq`;
    expect(events.map((e) => e.type)).toEqual([MembershipRenewalDue.type, 'payment.failed']);
    expect(events[1].data).toMatchObject({ attempts: 4, reason: 'card_declined' });
    const [membership] = await system.database.sql<{ status: string }[]>`select status from orders.memberships where customer_id = ${customerId}`;
    expect(membership.status).toBe('suspended');
    const [charge] = await system.database.sql<{ status: string }[]>`select status from payment.charges where charge_key = ${key}`;
    expect(charge.status).toBe('failed');
    const chargeResult = await system.client.workflow.getHandle(chargeWorkflowId(key)).result();
    expect(chargeResult).toMatchObject({ status: 'failed', attempts: 4 });
  });
});
