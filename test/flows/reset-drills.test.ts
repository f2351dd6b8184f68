/**
 * Ops drills: a workflow reset repeats no side effect. Every external effect is keyed by business
 * ids, so re-running a workflow from its first workflow task sends no second WMS instruction,
 * charges no card twice, books no second journal entry and publishes no second event. The address
 * drill of docs/operations.md runs here end to end through the admin API.
 */
import request from 'supertest';
import { ensureAdminAccount } from '../../api/admin/bootstrap';
import { createPspSimulator, type PspRunningServer, type PspSimulator } from '../../simulators/psp/server';
import { createWmsSimulator, type WmsSimulator, type WmsRunningServer } from '../../simulators/wms/server';
import { ledgerWorkflowId } from '../../workflows/accounting/contract';
import { membershipWorkflowId } from '../../workflows/orders/contract';
import { chargeWorkflowId, membershipChargeKey, refundWorkflowId, shippingChargeKey } from '../../workflows/payment/contract';
import { cancelOrderUpdate } from '../../workflows/orders/contract';
import { wmsInstructionWorkflowId } from '../../workflows/warehouse-integration/contract';
import { signUp, startListeningApi, TEST_WMS_SECRET, uniqueEmail, type ApiHarness } from '../api/harness';
import { GOOD_ADDRESS, startOrder } from '../support/orders';
import { eventually, seedItems, startSystem, type RunningSystem } from '../support/system';
import { resetToFirstWorkflowTask } from '../support/temporal';

describe('reset drills', () => {
  let system: RunningSystem;
  let simulator: WmsSimulator;
  let wms: WmsRunningServer;
  let api: ApiHarness & { url: string };
  let psp: PspSimulator;
  let pspServer: PspRunningServer;
  let admin: { Authorization: string };

  beforeAll(async () => {
    api = await startListeningApi();
    simulator = createWmsSimulator({
      callbackUrl: `${api.url}/v1/webhooks/wms`,
      webhookSecret: TEST_WMS_SECRET,
      faults: { stepMs: 100 },
    });
    wms = await simulator.start(0);
    psp = createPspSimulator();
    pspServer = await psp.start(0);
    system = await startSystem({ wmsUrl: wms.url, pspUrl: pspServer.url });
    const email = uniqueEmail('ops');
    await ensureAdminAccount(api.database.db, { email, password: 'ops drill password' });
    const login = await request(api.app).post('/v1/auth/login').send({ email, password: 'ops drill password' }).expect(200);
    admin = { Authorization: `Bearer ${login.body.token as string}` };
  });
  afterAll(async () => {
    // The WMS first: a callback still on its way would reach the API after its Temporal client closed.
    await wms?.close();
    await system?.stop();
    await pspServer?.close();
    await api?.close();
  });

  /** Resets through the admin API, as the runbook does; returns the new run id. */
  async function resetViaApi(workflowId: string, reason: string): Promise<string> {
    const res = await request(api.app)
      .post(`/admin/workflows/${encodeURIComponent(workflowId)}/reset`)
      .set(admin)
      .send({ reason, to: 'first-workflow-task', reapplySignals: true });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 200, body: { workflowId, runId: expect.any(String) } });
    return res.body.runId as string;
  }

  /** A run is settled when it has closed, or has nothing in flight and its history stopped growing. */
  async function settled(workflowId: string, runId: string): Promise<void> {
    const handle = system.client.workflow.getHandle(workflowId, runId);
    let lastLength = -1;
    await eventually(
      async () => {
        const d = await handle.describe();
        if (d.status.name !== 'RUNNING') return true;
        const busy = (d.raw.pendingActivities?.length ?? 0) > 0 || (d.raw.pendingChildren?.length ?? 0) > 0 || d.raw.pendingWorkflowTask;
        const stable = !busy && d.historyLength === lastLength;
        lastLength = d.historyLength;
        if (stable) return true;
        await new Promise((r) => setTimeout(r, 500));
        return undefined;
      },
      40_000,
      `${workflowId} to settle after its reset`,
    );
  }

  const instructionsFor = (orderId: string) => [...simulator.instructions.values()].filter((i) => i.orderId === orderId);
  const eventIds = async (orderId: string) =>
    (await system.database.sql<{ id: string }[]>`select id from events.event_log where correlation_id = ${orderId} order by seq`).map((r) => r.id);
  const status = async (orderId: string) =>
    (await system.database.sql<{ status: string }[]>`select status from orders.orders where id = ${orderId}`)[0]?.status;

  it('ships the box after ops correct a rejected address and reset the failed instruction workflow', async () => {
    const { size } = await seedItems(system.database, ['dress'], 1);
    const { input } = await startOrder(system.client, {
      size,
      categories: ['dress'],
      itemCount: 1,
      address: { ...GOOD_ADDRESS, line1: 'REJECT 1 Nowhere Lane' },
    });
    const wmsHandle = system.client.workflow.getHandle(wmsInstructionWorkflowId(input.orderId));
    await eventually(async () => ((await wmsHandle.describe().catch(() => undefined))?.status.name === 'FAILED' ? true : undefined), 30_000, 'FAILED');
    await eventually(async () => ((await status(input.orderId)) === 'address_rejected' ? true : undefined), 20_000, 'address_rejected');
    expect(instructionsFor(input.orderId)).toEqual([]);

    // The drill (docs/operations.md), through the admin API: find the failure, correct the address, reset.
    const failed = await eventually(
      async () => {
        const res = await request(api.app).get(`/admin/workflows?status=Failed&domain=warehouse-integration&orderId=${input.orderId}`).set(admin).expect(200);
        return res.body.workflows.length ? (res.body.workflows as { workflowId: string; type: string; webUiLink: string }[]) : undefined;
      },
      20_000,
      'the failed instruction workflow in visibility',
    );
    expect(failed).toEqual([
      expect.objectContaining({ workflowId: wmsHandle.workflowId, type: 'warehouseInstructionWorkflow', webUiLink: expect.stringContaining('/workflows/') }),
    ]);
    const trace = await request(api.app).get(`/admin/orders/${input.orderId}/trace`).set(admin).expect(200);
    expect(trace.body.order).toMatchObject({ status: 'address_rejected' });
    expect(trace.body.workflows).toEqual(expect.arrayContaining([expect.objectContaining({ workflowId: wmsHandle.workflowId, status: 'FAILED' })]));
    expect(trace.body.events.map((e: { id: string }) => e.id)).toContain(`wms:${input.orderId}:rejected`);

    await request(api.app).put(`/admin/orders/${input.orderId}/address`).set(admin).send({ address: GOOD_ADDRESS }).expect(400);
    await request(api.app)
      .put(`/admin/orders/${input.orderId}/address`)
      .set(admin)
      .send({ reason: 'member phoned with the right address', address: GOOD_ADDRESS })
      .expect(200);
    const newRunId = await resetViaApi(wmsHandle.workflowId, 'address corrected by ops');
    const [auditRow] = await eventually(async () => {
      const rows = await system.database.sql<{ actor_id: string; reason: string; outcome: string; details: { newRunId?: string } }[]>`
        select actor_id, reason, outcome, details from admin.audit_log where action = 'reset-workflow' and target = ${wmsHandle.workflowId}`;
      return rows.length ? rows : undefined;
    });
    expect(auditRow).toMatchObject({ reason: 'address corrected by ops', outcome: 'ok', details: { newRunId } });

    await eventually(async () => ((await status(input.orderId)) === 'delivered' ? true : undefined), 40_000, 'delivered');
    const accepted = instructionsFor(input.orderId);
    expect(accepted).toHaveLength(1);
    expect(accepted[0].address.line1).toBe(GOOD_ADDRESS.line1);
    const ids = await eventIds(input.orderId);
    // shipment.rejected stays in the timeline as history; every event appears once.
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([`wms:${input.orderId}:rejected`, `wms:${input.orderId}:shipment-requested`, `shipment:${input.orderId}:delivered`]),
    );
  });

  it('sends no second instruction and publishes no second event when a finished instruction workflow is reset', async () => {
    const { size } = await seedItems(system.database, ['top'], 1);
    const { input } = await startOrder(system.client, { size, categories: ['top'], itemCount: 1 });
    await eventually(async () => ((await status(input.orderId)) === 'delivered' ? true : undefined), 40_000, 'delivered');
    const before = await eventIds(input.orderId);
    expect(instructionsFor(input.orderId)).toHaveLength(1);

    const wmsWorkflowId = wmsInstructionWorkflowId(input.orderId);
    const runId = await resetToFirstWorkflowTask(system.client, wmsWorkflowId, 'drill: re-run a completed workflow');
    await system.client.workflow
      .getHandle(wmsWorkflowId, runId)
      .result()
      .catch(() => undefined);
    await eventually(async () => ((await system.client.workflow.getHandle(wmsWorkflowId, runId).describe()).status.name !== 'RUNNING' ? true : undefined));

    expect(instructionsFor(input.orderId)).toHaveLength(1);
    expect(await eventIds(input.orderId)).toEqual(before);
  });

  it('repeats no instruction, charge, journal entry or event when every workflow of a delivered and bought box is reset to its first workflow task', async () => {
    const { size } = await seedItems(system.database, ['dress', 'top'], 1);
    const member = await signUp(api.app);
    const { input } = await startOrder(system.client, { customerId: member.customerId, size, categories: ['dress', 'top'], itemCount: 2 });
    const { orderId } = input;
    await eventually(async () => ((await status(orderId)) === 'delivered' ? true : undefined), 40_000, 'delivered');
    const [itemId] = (await system.database.sql<{ id: string }[]>`select id from inventory.items where size = ${size} order by id`).map((r) => r.id);
    await request(api.app).post(`/v1/orders/${orderId}/items/${itemId}/purchase`).set(member.auth).send({}).expect(202);
    await eventually(async () => ((await eventIds(orderId)).includes(`inventory:${orderId}:${itemId}:sold`) ? true : undefined), 40_000, 'item.sold');

    const journalEntries = async () =>
      (await system.database.sql<{ id: string }[]>`select id from accounting.journal_entries where customer_id = ${member.customerId} order by id`).map(
        (r) => r.id,
      );
    const captures = () => psp.ledger.filter((c) => c.idempotencyKey.includes(orderId)).length;
    await eventually(async () => ((await journalEntries()).length > 0 ? true : undefined), 20_000, 'the purchase booked in the ledger');
    // Let the last deliveries land before taking the "before" picture.
    await settled(ledgerWorkflowId(member.customerId), (await system.client.workflow.getHandle(ledgerWorkflowId(member.customerId)).describe()).runId);
    const before = { events: await eventIds(orderId), instructions: instructionsFor(orderId).length, captures: captures(), entries: await journalEntries() };
    expect(before).toMatchObject({ instructions: 1, captures: 1 });
    expect(before.entries.length).toBeGreaterThan(0);

    // Every workflow of the box (the trace lists them), plus the member's ledger, which has no OrderId.
    const trace = await request(api.app).get(`/admin/orders/${orderId}/trace`).set(admin).expect(200);
    const types = new Map<string, string>((trace.body.workflows as { workflowId: string; type: string }[]).map((w) => [w.workflowId, w.type]));
    types.set(ledgerWorkflowId(member.customerId), 'ledgerWorkflow');
    expect([...types.values()]).toEqual(
      expect.arrayContaining([
        'orderWorkflow',
        'stylingWorkflow',
        'reservationWorkflow',
        'warehouseInstructionWorkflow',
        'shipmentWorkflow',
        'returnWorkflow',
        'chargeWorkflow',
        'saleWorkflow',
        'ledgerWorkflow',
      ]),
    );
    for (const [workflowId, type] of types) {
      const runId = await resetViaApi(workflowId, `drill: re-run ${type}`);
      await settled(workflowId, runId);
      expect({ workflowId, status: (await system.client.workflow.getHandle(workflowId, runId).describe()).status.name }).not.toEqual({
        workflowId,
        status: 'FAILED',
      });
    }

    expect({ events: await eventIds(orderId), instructions: instructionsFor(orderId).length, captures: captures(), entries: await journalEntries() }).toEqual(
      before,
    );
  });
  it('repeats no capture, refund, journal entry or event when the fee charge and refund of a cancelled express box, the membership and its fee charge are reset', async () => {
    const member = await signUp(api.app);
    const placed = await request(api.app).post('/v1/orders').set(member.auth).send({ itemCount: 1, shipping: 'express' }).expect(202);
    const orderId: string = placed.body.orderId;
    await request(api.app).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({ reason: 'changed my mind' }).expect(200);
    const chargeKey = shippingChargeKey(orderId);
    await eventually(async () => ((await eventIds(orderId)).includes(`charge:${chargeKey}:refunded`) ? true : undefined), 40_000, 'the fee refunded');

    const journalEntries = async () =>
      (await system.database.sql<{ id: string }[]>`select id from accounting.journal_entries where customer_id = ${member.customerId} order by id`).map(
        (r) => r.id,
      );
    const money = () => {
      const captures = psp.ledger.filter((c) => c.idempotencyKey.includes(member.customerId) || c.idempotencyKey.includes(orderId));
      return { captures: captures.length, refundedCents: captures.map((c) => psp.charges.get(c.chargeId)?.refundedCents ?? 0) };
    };
    const membershipEvents = async () =>
      (await system.database.sql<{ id: string }[]>`select id from events.event_log where correlation_id = ${member.customerId} order by seq`).map((r) => r.id);
    // The membership fee and the express fee, the fee's refund: all booked before the picture.
    await eventually(async () => ((await journalEntries()).length >= 3 ? true : undefined), 30_000, 'fees and refund booked');
    await settled(ledgerWorkflowId(member.customerId), (await system.client.workflow.getHandle(ledgerWorkflowId(member.customerId)).describe()).runId);
    const before = { events: await eventIds(orderId), memberEvents: await membershipEvents(), money: money(), entries: await journalEntries() };
    expect(before.money).toEqual({ captures: 2, refundedCents: expect.arrayContaining([0, expect.any(Number)]) });
    expect(before.money.refundedCents.filter((c) => c > 0)).toHaveLength(1);

    const membershipCharge = chargeWorkflowId(membershipChargeKey(member.customerId, before.memberEvents[0].split(':')[2]));
    expect(before.memberEvents).toContain(`${membershipCharge}:captured`);
    // The fee's own charge first: its re-run hears the reapplied shipment.cancelled before it
    // charges, and must still take the capture path (same captured and refunded events, no failed).
    for (const workflowId of [
      chargeWorkflowId(chargeKey),
      refundWorkflowId(chargeKey),
      membershipCharge,
      membershipWorkflowId(member.customerId),
      ledgerWorkflowId(member.customerId),
    ]) {
      const runId = await resetViaApi(workflowId, `drill: re-run ${workflowId}`);
      await settled(workflowId, runId);
      expect({ workflowId, status: (await system.client.workflow.getHandle(workflowId, runId).describe()).status.name }).not.toEqual({
        workflowId,
        status: 'FAILED',
      });
    }

    expect({ events: await eventIds(orderId), memberEvents: await membershipEvents(), money: money(), entries: await journalEntries() }).toEqual(before);
  });

  /** Waits until the workflow's current run has a pending activity of `type` executing on a worker (state STARTED). */
  const executing = (workflowId: string, type: string) =>
    eventually(
      async () => {
        const d = await system.client.workflow
          .getHandle(workflowId)
          .describe()
          .catch(() => undefined);
        return d?.raw.pendingActivities?.some((a) => a.activityType?.name === type && a.state === 2) ? true : undefined;
      },
      30_000,
      `${type} executing in ${workflowId}`,
    );

  it('ships nothing for a cancelled box when its instruction workflow is reset while the send is executing at a slow WMS', async () => {
    const { size } = await seedItems(system.database, ['dress'], 1);
    simulator.faults.latencyMs = 4_000;
    try {
      const { input, handle } = await startOrder(system.client, { size, categories: ['dress'], itemCount: 1 });
      const wmsWorkflowId = wmsInstructionWorkflowId(input.orderId);
      await executing(wmsWorkflowId, 'sendShippingInstruction');
      // The cancel reaches the instruction workflow while its send is still at the WMS...
      await handle.startUpdate(cancelOrderUpdate, { args: [{ reason: 'changed my mind' }], waitForStage: 'ACCEPTED' });
      await eventually(
        async () => {
          const history = await system.client.workflow.getHandle(wmsWorkflowId).fetchHistory();
          return history.events?.some((e) => e.activityTaskCancelRequestedEventAttributes) ? true : undefined;
        },
        20_000,
        'the send asked to stop',
      );
      // ...and ops reset it then: the new run hears the cancel first, beside the old run's attempt.
      await resetViaApi(wmsWorkflowId, 'drill: reset while the send is at the WMS');
      // The old attempt is still waiting out its latency at the WMS; the new run's calls are not.
      simulator.faults.latencyMs = 0;
      await eventually(async () => ((await status(input.orderId)) === 'cancelled' ? true : undefined), 40_000, 'cancelled');
    } finally {
      simulator.faults.latencyMs = 0;
    }
    const orderId = (await system.database.sql<{ id: string }[]>`select id from orders.orders where size = ${size}`)[0].id;
    // The old attempt's instruction reached the WMS after the reset: it must be cancelled there, or refused.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(instructionsFor(orderId).filter((i) => i.status !== 'cancelled')).toEqual([]);
    expect(await eventIds(orderId)).not.toContain(`shipment:${orderId}:shipped`);
    await expect(system.client.workflow.getHandle(`shipment:${orderId}`).describe()).rejects.toThrow();
  }, 120_000);

  it('keeps no money of a cancelled express box when its fee charge is reset while the capture is executing at a slow PSP', async () => {
    const member = await signUp(api.app);
    psp.faults.latencyMs = 4_000;
    // Whether or not the member's size is in stock, the box must not leave before the cancel.
    simulator.faults.stepMs = 600_000;
    let orderId: string;
    try {
      const placed = await request(api.app).post('/v1/orders').set(member.auth).send({ itemCount: 1, shipping: 'express' }).expect(202);
      orderId = placed.body.orderId;
      const chargeId = chargeWorkflowId(shippingChargeKey(orderId));
      await executing(chargeId, 'chargeAttempt');
      // The member's cancel, or the system's when styling finds no stock in the member's size first: either way the box is cancelled.
      const cancel = await request(api.app).post(`/v1/orders/${orderId}/cancel`).set(member.auth).send({ reason: 'changed my mind' });
      expect([200, 409]).toContain(cancel.status);
      await eventually(async () => ((await status(orderId)) === 'cancelled' ? true : undefined), 30_000, 'cancelled');
      await eventually(
        async () => {
          const history = await system.client.workflow.getHandle(chargeId).fetchHistory();
          return history.events?.some((e) => e.workflowExecutionSignaledEventAttributes) ? true : undefined;
        },
        20_000,
        'the charge told of the cancel',
      );
      // The reset's new run hears the cancel before it charges, while the old attempt is still at the PSP.
      await resetViaApi(chargeId, 'drill: reset while the capture is at the PSP');
    } finally {
      psp.faults.latencyMs = 0;
      simulator.faults.stepMs = 100;
    }
    const chargeKey = shippingChargeKey(orderId!);
    const outcome = await eventually(
      async () => {
        const ids = await eventIds(orderId!);
        return ids.find((id) => id === `charge:${chargeKey}:refunded` || id === `charge:${chargeKey}:failed`);
      },
      60_000,
      'the fee settled',
    );
    await settled(chargeWorkflowId(chargeKey), (await system.client.workflow.getHandle(chargeWorkflowId(chargeKey)).describe()).runId);
    // The old run's attempt was at the PSP during the reset: it captures once its latency is over.
    await eventually(async () => (psp.ledger.some((c) => c.metadata.chargeKey === chargeKey) ? true : undefined), 20_000, 'the old attempt captured');
    // Whatever the PSP captured for this fee, it refunded: the member keeps their money.
    const captures = psp.ledger.filter((c) => c.metadata.chargeKey === chargeKey);
    const kept = captures.reduce((sum, c) => sum + c.amountCents - (psp.charges.get(c.chargeId)?.refundedCents ?? 0), 0);
    expect({ outcome, captures: captures.length, kept }).toEqual({ outcome: `charge:${chargeKey}:refunded`, captures: 1, kept: 0 });
  }, 120_000);
});
