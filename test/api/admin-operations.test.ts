/**
 * The admin operations API against the real dev server, PostgreSQL, payment worker and PSP
 * simulator: admin role only, every call audited, strict bodies, cursor pagination over
 * visibility, resets to the last workflow task or an event id, and a PSP outage showing up as
 * retrying activities before anything fails.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { ensureAdminAccount } from '../../api/admin/bootstrap';
import { savePaymentMethod } from '../../store/payment/payment-methods';
import { createPspSimulator, type PspRunningServer, type PspSimulator } from '../../simulators/psp/server';
import type { EventEnvelope } from '../../workflows/bus/contract';
import { PurchaseRequested, type PurchaseRequestedData } from '../../workflows/orders/contract';
import { PAYMENT_TASK_QUEUE, chargeWorkflowId, purchaseChargeKey } from '../../workflows/payment/contract';
import type { chargeWorkflow } from '../../workflows/payment/workflows';
import { boxSearchAttributes } from '../../workflows/search-attributes';
import { eventually, startSystem, uniqueId, type RunningSystem } from '../support/system';
import { signUp, startApi, uniqueEmail, type ApiHarness } from './harness';

let api: ApiHarness;
let system: RunningSystem;
let psp: PspSimulator;
let pspServer: PspRunningServer;
let admin: { Authorization: string };

beforeAll(async () => {
  api = await startApi();
  psp = createPspSimulator();
  pspServer = await psp.start(0);
  system = await startSystem({ pspUrl: pspServer.url, domains: ['payment'] });
  const email = uniqueEmail('ops');
  await ensureAdminAccount(api.database.db, { email, password: 'ops admin password' });
  const login = await request(api.app).post('/v1/auth/login').send({ email, password: 'ops admin password' }).expect(200);
  admin = { Authorization: `Bearer ${login.body.token as string}` };
});
afterAll(async () => {
  await system?.stop();
  await pspServer?.close();
  await api?.close();
});

const auditRows = (requestId: string) =>
  eventually(
    async () => {
      const rows = await api.database.sql<
        { actor_id: string; action: string; target: string | null; reason: string | null; status: number; outcome: string; details: Record<string, unknown> }[]
      >`
      select actor_id, action, target, reason, status, outcome, details from admin.audit_log where request_id = ${requestId}`;
      return rows.length ? rows : undefined;
    },
    10_000,
    `audit row of ${requestId}`,
  );

function startCharge(data: PurchaseRequestedData) {
  const event: EventEnvelope<PurchaseRequestedData> = {
    id: `order:${data.orderId}:purchase:${data.itemId}`,
    type: PurchaseRequested.type,
    occurredAt: new Date().toISOString(),
    correlationId: data.orderId,
    causationId: null,
    source: { domain: 'orders', workflowId: 'test', runId: 'test' },
    data,
  };
  return system.client.workflow.start<typeof chargeWorkflow>('chargeWorkflow', {
    taskQueue: PAYMENT_TASK_QUEUE,
    workflowId: chargeWorkflowId(purchaseChargeKey(data.orderId, data.itemId)),
    args: [{ event }],
    typedSearchAttributes: boxSearchAttributes(data.orderId, data.customerId),
  });
}

describe('/admin operations', () => {
  it('answers 401 without a token and 403 to a member, and audits the refused call', async () => {
    await request(api.app).get('/admin/workflows').expect(401);
    const member = await signUp(api.app);
    const requestId = `test-${randomUUID()}`;
    const res = await request(api.app)
      .post('/admin/workflows/order:o_x/reset')
      .set(member.auth)
      .set('X-Request-Id', requestId)
      .send({ reason: 'curious', to: 'first-workflow-task', reapplySignals: true })
      .expect(403);
    expect(res.body.type).toBe('https://closetflow.dev/problems/forbidden');
    expect(await auditRows(requestId)).toEqual([expect.objectContaining({ actor_id: member.customerId, status: 403, outcome: 'forbidden' })]);
  });

  it('lists the audit trail newest first, by target, with a cursor, and audits that read too', async () => {
    const target = `order:o_audit${randomUUID().slice(0, 8)}`;
    for (const why of ['first look', 'second look']) {
      await request(api.app)
        .post(`/admin/workflows/${target}/reset`)
        .set(admin)
        .send({ reason: why, to: 'first-workflow-task', reapplySignals: false })
        .expect(404);
    }
    const first = await request(api.app).get('/admin/audit-log').query({ target, limit: 1 }).set(admin).expect(200);
    expect(first.body.entries).toEqual([expect.objectContaining({ target, reason: 'second look', status: 404, action: expect.stringContaining('reset') })]);
    const second = await request(api.app).get('/admin/audit-log').query({ target, limit: 1, cursor: first.body.nextCursor }).set(admin).expect(200);
    expect(second.body.entries).toEqual([expect.objectContaining({ target, reason: 'first look' })]);
    expect(second.body.nextCursor).toBeNull();
    const read = await request(api.app).get('/admin/audit-log').query({ target: '(all)', reason: 'who read the trail' }).set(admin).expect(200);
    await auditRows(read.headers['x-request-id'] as string);
    await request(api.app).get('/admin/audit-log').query({ limit: 0 }).set(admin).expect(400);
    const member = await signUp(api.app);
    await request(api.app).get('/admin/audit-log').set(member.auth).expect(403);
  });

  it('refuses a reset without a reason, with unknown fields or to an event that is not a workflow task', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    await savePaymentMethod(system.database.db, customerId, 'tok_visa');
    const handle = await startCharge({ orderId, customerId, itemId: 'itm_r', priceCents: 1200, reason: 'member' });
    await handle.result();
    const reset = (body: object) =>
      request(api.app)
        .post(`/admin/workflows/${encodeURIComponent(handle.workflowId)}/reset`)
        .set(admin)
        .send(body);

    const noReason = await reset({ to: 'first-workflow-task', reapplySignals: true }).expect(400);
    expect(noReason.body.errors).toEqual([expect.objectContaining({ in: 'body', path: 'reason' })]);
    const extra = await reset({ reason: 'drill', to: 'first-workflow-task', reapplySignals: true, force: true }).expect(400);
    expect(extra.body.errors[0].message).toContain('force');
    // Event 1 is WorkflowExecutionStarted: not a point a reset can go back to.
    const notATask = await reset({ reason: 'drill', to: { eventId: 1 }, reapplySignals: false }).expect(400);
    expect(notATask.body.errors).toEqual([expect.objectContaining({ path: 'to.eventId' })]);
    await request(api.app)
      .post(`/admin/workflows/${encodeURIComponent(`charge:nothing-${orderId}`)}/reset`)
      .set(admin)
      .send({ reason: 'drill', to: 'last-workflow-task', reapplySignals: true })
      .expect(404);
  });

  it('resets to the last workflow task or to an event id, and the re-run captures nothing twice', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    await savePaymentMethod(system.database.db, customerId, 'tok_visa');
    const handle = await startCharge({ orderId, customerId, itemId: 'itm_l', priceCents: 1500, reason: 'member' });
    await handle.result();
    const key = purchaseChargeKey(orderId, 'itm_l');
    const captures = () => psp.ledger.filter((c) => c.idempotencyKey.startsWith(`${key}:`)).length;
    expect(captures()).toBe(1);

    const requestId = `test-${randomUUID()}`;
    const last = await request(api.app)
      .post(`/admin/workflows/${encodeURIComponent(handle.workflowId)}/reset`)
      .set(admin)
      .set('X-Request-Id', requestId)
      .send({ reason: 'drill: re-run the end of the charge', to: 'last-workflow-task', reapplySignals: false })
      .expect(200);
    expect(last.body).toMatchObject({
      workflowId: handle.workflowId,
      reapplySignals: false,
      runId: expect.any(String),
      webUiLink: expect.stringContaining(last.body.runId),
    });
    expect(last.body.runId).not.toBe(last.body.previousRunId);
    await expect(system.client.workflow.getHandle(handle.workflowId, last.body.runId).result()).resolves.toMatchObject({ status: 'captured' });
    const [row] = await auditRows(requestId);
    expect(row).toMatchObject({
      action: 'reset-workflow',
      target: handle.workflowId,
      reason: 'drill: re-run the end of the charge',
      status: 200,
      outcome: 'ok',
      details: {
        to: 'last-workflow-task',
        reapplySignals: false,
        previousRunId: last.body.previousRunId,
        newRunId: last.body.runId,
        resetToEventId: last.body.resetToEventId,
      },
    });

    // The first workflow task completes as event 4 (started 1, task scheduled 2, started 3).
    const byEvent = await request(api.app)
      .post(`/admin/workflows/${encodeURIComponent(handle.workflowId)}/reset`)
      .set(admin)
      .send({ reason: 'drill: re-run from event 4', to: { eventId: 4 }, reapplySignals: true, runId: last.body.runId })
      .expect(200);
    expect(byEvent.body).toMatchObject({ previousRunId: last.body.runId, resetToEventId: 4 });
    await expect(system.client.workflow.getHandle(handle.workflowId, byEvent.body.runId).result()).resolves.toMatchObject({ status: 'captured' });
    expect(captures()).toBe(1);
  });

  it('pages through workflows of a domain with a cursor', async () => {
    // Workflows on a queue no worker polls stay Running, so the page contents are known.
    const domain = `admin-test-${randomUUID().slice(0, 8)}`;
    const orderId = uniqueId('o');
    const ids = ['a', 'b', 'c'].map((n) => `${domain}:${n}`);
    for (const workflowId of ids) {
      await system.client.workflow.start('nobodyRunsThis', {
        taskQueue: domain,
        workflowId,
        args: [],
        typedSearchAttributes: boxSearchAttributes(orderId, 'c_x'),
      });
    }
    try {
      await eventually(
        async () => {
          const res = await request(api.app).get(`/admin/workflows?status=Running&domain=${domain}`).set(admin).expect(200);
          return res.body.workflows.length === 3 ? true : undefined;
        },
        20_000,
        'three workflows in visibility',
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: request.Response = await request(api.app)
          .get(`/admin/workflows?status=Running&domain=${domain}&pageSize=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set(admin)
          .expect(200);
        expect(res.body.query).toBe(`ExecutionStatus = "Running" AND TaskQueue = "${domain}"`);
        expect(res.body.workflows.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.workflows.map((w: { workflowId: string; orderId: string; type: string }) => w.workflowId));
        cursor = res.body.nextCursor as string | null;
        pages += 1;
      } while (cursor && pages < 5);
      expect(seen.sort()).toEqual(ids);
      expect(pages).toBeGreaterThanOrEqual(2);

      // Nothing completed a workflow task there, so there is nothing to reset to.
      const refused = await request(api.app)
        .post(`/admin/workflows/${encodeURIComponent(ids[0])}/reset`)
        .set(admin)
        .send({ reason: 'drill', to: 'first-workflow-task', reapplySignals: true })
        .expect(400);
      expect(refused.body.detail).toContain('no completed workflow task');
      await request(api.app).get(`/admin/workflows?status=Sleeping`).set(admin).expect(400);
      await request(api.app)
        .get(`/admin/workflows?domain=${encodeURIComponent('orders" OR 1=1')}`)
        .set(admin)
        .expect(400);
    } finally {
      for (const id of ids)
        await system.client.workflow
          .getHandle(id)
          .terminate('test done')
          .catch(() => undefined);
    }
  });

  it('shows charges retrying through a PSP outage as pending activities, and none once the PSP is back', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    await savePaymentMethod(system.database.db, customerId, 'tok_visa');
    psp.faults.outageUntil = new Date(Date.now() + 60 * 60 * 1000).toISOString();
    let handle: Awaited<ReturnType<typeof startCharge>>;
    try {
      handle = await startCharge({ orderId, customerId, itemId: 'itm_o', priceCents: 900, reason: 'member' });
      const pending = await eventually(
        async () => {
          const res = await request(api.app).get('/admin/activities/pending?domain=payment&reason=PSP%20outage%20check').set(admin).expect(200);
          const mine = (res.body.activities as { workflowId: string; attempt: number }[]).filter((a) => a.workflowId === handle.workflowId && a.attempt >= 2);
          return mine.length ? mine : undefined;
        },
        20_000,
        'the charge retrying',
      );
      expect(pending[0]).toMatchObject({
        workflowId: handle.workflowId,
        type: 'chargeWorkflow',
        domain: 'payment',
        orderId,
        activityType: expect.any(String),
        lastFailure: { message: expect.any(String) },
        maximumAttempts: expect.any(Number),
        webUiLink: expect.stringContaining(encodeURIComponent(handle.workflowId)),
      });
      const [row] = await eventually(async () => {
        const rows = await api.database.sql<{ reason: string; outcome: string }[]>`
          select reason, outcome from admin.audit_log where action = 'pending-activities' and reason = 'PSP outage check'`;
        return rows.length ? rows : undefined;
      });
      expect(row.outcome).toBe('ok');
      // The charge has not failed: it waits for the PSP.
      expect((await handle.describe()).status.name).toBe('RUNNING');
    } finally {
      psp.faults.outageUntil = null;
    }
    await expect(handle.result()).resolves.toMatchObject({ status: 'captured' });
    const after = await request(api.app).get('/admin/activities/pending?domain=payment').set(admin).expect(200);
    expect(after.body.activities.filter((a: { workflowId: string }) => a.workflowId === handle.workflowId)).toEqual([]);
  });

  it('retries a declined charge now with the card the member just put on file (runbook: a declined card)', async () => {
    const member = await signUp(api.app);
    await request(api.app)
      .put('/v1/me/payment-method')
      .set(member.auth)
      .send({ card: { token: 'tok_decline' } })
      .expect(200);
    const orderId = uniqueId('o');
    const handle = await startCharge({ orderId, customerId: member.customerId, itemId: 'itm_r', priceCents: 1200, reason: 'member' });
    const chargeKey = purchaseChargeKey(orderId, 'itm_r');
    await eventually(
      async () => ((await request(api.app).get(`/admin/payments/charges/${chargeKey}`).set(admin)).body.workflow?.status === 'dunning' ? true : undefined),
      20_000,
      'dunning',
    );

    // A retry before the card is fixed is a new attempt, declined again: dunning goes on.
    const early = await request(api.app)
      .post(`/admin/payments/charges/${chargeKey}/retry`)
      .set(admin)
      .send({ reason: 'member says the card works now' })
      .expect(200);
    expect(early.body).toMatchObject({
      workflow: { status: 'dunning', attempts: 2 },
      attempts: [
        { attempt: 1, status: 'declined' },
        { attempt: 2, status: 'declined', cardToken: 'tok_decline' },
      ],
    });

    await request(api.app)
      .put('/v1/me/payment-method')
      .set(member.auth)
      .send({ card: { token: 'tok_visa' } })
      .expect(200);
    const requestId = `test-${randomUUID()}`;
    const retried = await request(api.app)
      .post(`/admin/payments/charges/${chargeKey}/retry`)
      .set(admin)
      .set('X-Request-Id', requestId)
      .send({ reason: 'member updated the card' })
      .expect(200);
    expect(retried.body).toMatchObject({ chargeKey, status: 'captured', workflow: { status: 'captured', attempts: 3 } });
    expect(retried.body.attempts.at(-1)).toMatchObject({ attempt: 3, status: 'captured', cardToken: 'tok_visa' });
    await expect(handle.result()).resolves.toMatchObject({ status: 'captured', attempts: 3 });
    expect(psp.ledger.filter((c) => c.metadata.chargeKey === chargeKey).map((c) => c.idempotencyKey)).toEqual([`${chargeKey}:attempt-3`]);
    expect(await auditRows(requestId)).toEqual([
      expect.objectContaining({ action: 'retry-charge', target: chargeKey, reason: 'member updated the card', outcome: 'ok' }),
    ]);

    // Captured, the charge takes no retry.
    const again = await request(api.app).post(`/admin/payments/charges/${chargeKey}/retry`).set(admin).send({ reason: 'again' }).expect(409);
    expect(again.body.type).toBe('https://closetflow.dev/problems/charge-not-retryable');
  });

  it('traces a box: its workflows with Web UI links and its event timeline; 404 for an unknown order', async () => {
    const customerId = uniqueId('c');
    const orderId = uniqueId('o');
    await savePaymentMethod(system.database.db, customerId, 'tok_visa');
    const handle = await startCharge({ orderId, customerId, itemId: 'itm_t', priceCents: 700, reason: 'member' });
    await handle.result();
    const trace = await eventually(
      async () => {
        const res = await request(api.app).get(`/admin/orders/${orderId}/trace`).set(admin);
        return res.status === 200 && res.body.workflows.length && res.body.events.length ? res.body : undefined;
      },
      20_000,
      'the trace',
    );
    expect(trace.workflows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          workflowId: handle.workflowId,
          type: 'chargeWorkflow',
          domain: 'payment',
          status: 'COMPLETED',
          webUiLink: expect.stringMatching(/^http.*\/history$/),
        }),
      ]),
    );
    expect(trace.events).toEqual([
      expect.objectContaining({
        id: `charge:${purchaseChargeKey(orderId, 'itm_t')}:captured`,
        type: 'payment.captured',
        source: expect.objectContaining({ domain: 'payment' }),
      }),
    ]);
    expect(trace.webUiSearch).toContain(encodeURIComponent(`OrderId="${orderId}"`));
    await request(api.app)
      .get(`/admin/orders/${uniqueId('o')}/trace`)
      .set(admin)
      .expect(404);
    await request(api.app)
      .get(`/admin/orders/${encodeURIComponent('o_1" OR OrderId != "')}/trace`)
      .set(admin)
      .expect(400);
  });
});
