/**
 * The deployment drill (docs/operations.md, section 7): boxes and memberships start on build A of
 * every domain's workers, with build B deployed beside A; while they run, B is promoted. In B three
 * workflow types changed: orderWorkflow gained a step (behind `patched()`), membershipWorkflow
 * publishes before it records (the order of two steps, behind `patched()`), and shipmentWorkflow
 * waits a timer at every milestone with no patch at all — harmless only because a shipment is
 * pinned to the build it started on. Everything runs to its end: every box closes, nothing is
 * repeated (counted where it happens: instructions at the WMS, captures at the PSP, entries in the
 * ledger, each box's events), the pinned workflows finish on A, the long-lived ones move to B.
 *
 * On a dev server of its own: the drill's worker deployments route the domains' task queues to
 * versioned workers, which the other test files' unversioned workers must never meet.
 */
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPspSimulator, type PspRunningServer, type PspSimulator } from '../../simulators/psp/server';
import { createWmsSimulator, type WmsRunningServer, type WmsSimulator } from '../../simulators/wms/server';
import { deploymentNameOf, setCurrentBuild } from '../../workers/deployment';
import { DOMAIN_WORKER_NAMES } from '../../workers/domains';
import { domainWorkflowModules, workflowBundleOptions } from '../../workers/workflow-bundle';
import { eventSignal } from '../../workflows/bus/contract';
import { reservationWorkflowId } from '../../workflows/inventory/contract';
import { MembershipWorkflow, membershipStatusQuery, orderWorkflowId } from '../../workflows/orders/contract';
import { returnWorkflowId } from '../../workflows/returns/contract';
import { stylingWorkflowId } from '../../workflows/styling/contract';
import { shipmentWorkflowId } from '../../workflows/warehouse/contract';
import { wmsInstructionWorkflowId } from '../../workflows/warehouse-integration/contract';
import { savePaymentMethod } from '../../store/payment/payment-methods';
import { membershipWorkflowId } from '../../workflows/orders/membership-contract';
import { startWorkflow } from '../../workflows/workflow-ref';
import { membershipCaptured } from '../accounting/support';
import { callApi, signUp, startListeningApi, TEST_WMS_SECRET, type ApiHarness } from '../api/harness';
import { eventually, seedItems, startSystem, uniqueId, type RunningSystem } from '../support/system';
import { createOwnDevServer } from '../support/temporal';

const ROOT = path.resolve(__dirname, '..', '..');
const BOXES = 3;

/** Edits one file of the copy: `from` must occur exactly once. */
function edit(copy: string, file: string, from: string, to: string): void {
  const full = path.join(copy, 'workflows', file);
  const text = fs.readFileSync(full, 'utf8');
  if (text.split(from).length !== 2) throw new Error(`drill: ${file} does not hold exactly one ${JSON.stringify(from.slice(0, 60))}`);
  fs.writeFileSync(full, text.replace(from, to));
}

/** Build B: a copy of workflows/ with the three changes, bundled as the workers bundle theirs. */
async function bundleBuildB(copy: string): Promise<string> {
  fs.rmSync(copy, { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, 'workflows'), path.join(copy, 'workflows'), { recursive: true });
  // An added step of a long-lived workflow, behind a patch: histories of A replay without it.
  edit(
    copy,
    'orders/order-events.ts',
    "on(ShipmentDelivered, (m, e) => m.transition('delivered', e, { statusReason: undefined })),",
    "on(ShipmentDelivered, async (m, e) => {\n    if (patched('drill-delivered-note')) await m.transition(m.detail.status, e, { statusReason: 'delivered (noted by build B)' });\n    await m.transition('delivered', e, { statusReason: undefined });\n  }),",
  );
  edit(
    copy,
    'orders/order-events.ts',
    "import { HandlerTable, on } from '../bus/handlers';",
    "import { patched } from '@temporalio/workflow';\nimport { HandlerTable, on } from '../bus/handlers';",
  );
  // Two steps of a long-lived workflow in the other order, behind a patch.
  const record =
    "    await recordMembership.executeWithOptions({ summary: `membership of ${customerId} active for ${period}` }, [{ customerId, status: 'active', period }]);\n";
  const announce = `    await publish(MembershipRenewalDue, {
      id: membershipRenewalDueEventId(customerId, period),
      data: { customerId, period, amountCents },
      correlationId: customerId,
    });
`;
  edit(
    copy,
    'orders/membership.ts',
    record + announce,
    `    if (patched('drill-announce-first')) {\n${announce}${record}    } else {\n${record}${announce}    }\n`,
  );
  edit(copy, 'orders/membership.ts', 'import { allHandlersFinished,', 'import { patched, allHandlersFinished,');
  // A pinned workflow changed with no patch: a timer at every milestone (a non-determinism for any A history).
  edit(
    copy,
    'warehouse/workflows.ts',
    "import { condition, log, proxyLocalActivities, setHandler } from '@temporalio/workflow';",
    "import { condition, log, proxyLocalActivities, setHandler, sleep } from '@temporalio/workflow';",
  );
  edit(
    copy,
    'warehouse/workflows.ts',
    '  for (;;) {\n    await condition(() => rank(reported) > rank(state.milestone)',
    '  for (;;) {\n    await sleep(1);\n    await condition(() => rank(reported) > rank(state.milestone)',
  );

  const inCopy = (file: string) => (file.startsWith(path.join(ROOT, 'workflows')) ? path.join(copy, path.relative(ROOT, file)) : file);
  const entry = path.join(copy, 'entry.js');
  fs.writeFileSync(
    entry,
    domainWorkflowModules()
      .map((file) => `export * from ${JSON.stringify(inCopy(file))};\n`)
      .join(''),
  );
  const options = workflowBundleOptions({ tracing: false });
  const { code } = await bundleWorkflowCode({
    workflowsPath: entry,
    workflowInterceptorModules: options.workflowInterceptorModules.map(inCopy),
    preloadModules: options.preloadModules.map(inCopy),
    logger: new DefaultLogger('WARN'),
  });
  const out = path.join(copy, 'bundle-b.js');
  fs.writeFileSync(out, code);
  return out;
}

describe('the deployment drill', () => {
  const prefix = `drill${Date.now().toString(36)}`;
  const copy = path.join(ROOT, '.data', `drill-b-${process.pid}`);
  let env: TestWorkflowEnvironment;
  let api: ApiHarness & { url: string };
  let wmsSim: WmsSimulator;
  let wms: WmsRunningServer;
  let psp: PspSimulator;
  let pspServer: PspRunningServer;
  let buildA: RunningSystem;
  let buildB: RunningSystem | undefined;

  const settings = (build: string) => ({ WORKER_BUILD_ID: build, WORKER_DEPLOYMENT_PREFIX: prefix });
  /** Makes `build` current in every domain; waits for all of them even when one fails (no call outlives the test). */
  async function promote(build: string): Promise<void> {
    const results = await Promise.allSettled(
      DOMAIN_WORKER_NAMES.map((d) => setCurrentBuild(env.client, deploymentNameOf({ WORKER_DEPLOYMENT_PREFIX: prefix }, d), build)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  beforeAll(async () => {
    process.env.RETURNS_CLEANING_TIME = '1 second';
    env = await createOwnDevServer();
    api = await startListeningApi({ env });
    // Slow enough WMS steps that boxes are between instruction and delivery when B arrives.
    wmsSim = createWmsSimulator({ callbackUrl: `${api.url}/v1/webhooks/wms`, webhookSecret: TEST_WMS_SECRET, faults: { stepMs: 2500 } });
    wms = await wmsSim.start(0);
    psp = createPspSimulator();
    pspServer = await psp.start(0);
    buildA = await startSystem({ env, wmsUrl: wms.url, pspUrl: pspServer.url, settings: settings('A') });
    await promote('A');
  }, 120_000);

  afterAll(async () => {
    await buildB?.stop();
    await buildA?.stop();
    await api?.close();
    await wms?.close();
    await pspServer?.close();
    await env?.teardown();
    fs.rmSync(copy, { recursive: true, force: true });
    delete process.env.RETURNS_CLEANING_TIME;
  });

  const call = (method: string, url: string, token: string, body?: unknown) => callApi(api.url, method, url, token, body);
  const statusOf = async (orderId: string, token: string) => String((await call('GET', `/v1/orders/${orderId}`, token)).body.status);

  /** The build a workflow's run last ran on, and its versioning behaviour (Temporal's own record). */
  async function versionOf(workflowId: string): Promise<{ build: string | undefined; behavior: string | undefined }> {
    const info = (await env.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo;
    return { build: info?.deploymentVersion?.buildId ?? undefined, behavior: info?.behavior ? String(info.behavior) : undefined };
  }
  /** The patch ids recorded in the current run's history (core's patch markers hold `{ id, deprecated }`). */
  async function markersOf(workflowId: string): Promise<string[]> {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).flatMap((e) =>
      Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) =>
        (p.payloads ?? []).flatMap((payload) => {
          const text = payload.data ? Buffer.from(payload.data).toString('utf8') : '';
          const id = (text.startsWith('{') ? (JSON.parse(text) as { id?: unknown }).id : undefined) ?? undefined;
          return typeof id === 'string' ? [id] : [];
        }),
      ),
    );
  }

  it('runs every box and membership to its end across a deployment: pinned ones finish on A, long-lived ones move to B, nothing repeats', async () => {
    // Stock of the drill's own (ids no other test uses) in a size members can sign up with.
    const { size } = await seedItems(buildA.database, ['dress', 'top'], BOXES * 2, 'XL');
    const members = await Promise.all(Array.from({ length: BOXES }, () => signUp(api.url, { size, preferredCategories: ['dress', 'top'] })));
    // Memberships with short periods, so they continue as new across the deployment.
    const fast = await Promise.all(
      Array.from({ length: 2 }, async () => {
        const customerId = uniqueId('c');
        await savePaymentMethod(buildA.database.db, customerId, 'tok_visa');
        await startWorkflow(
          env.client.workflow,
          MembershipWorkflow,
          { customerId, periodLength: '3 seconds', period: '2026-01' },
          { workflowId: membershipWorkflowId(customerId) },
        );
        return customerId;
      }),
    );
    // Build B is bundled and its workers started before the boxes are placed, so that the
    // promotion itself (a few calls) is all that stands between a box at the WMS and B: bundling
    // takes longer than the WMS takes to deliver. Until promoted, B's workers get no tasks.
    const bundleB = await bundleBuildB(copy);
    buildB = await startSystem({ env, wmsUrl: wms.url, pspUrl: pspServer.url, settings: settings('B'), workflowBundlePath: bundleB, relay: false });

    const orders = await Promise.all(
      members.map(async (m) => {
        const res = await call('POST', '/v1/orders', m.token, { itemCount: 2 });
        expect(res.status).toBe(202);
        return { ...m, orderId: String(res.body.orderId) };
      }),
    );
    // Every box handed to the WMS on A, none delivered yet: its shipment is under way on A.
    await Promise.all(
      orders.map((o) =>
        eventually(
          async () => (['awaiting_shipment', 'shipped'].includes(await statusOf(o.orderId, o.token)) ? true : undefined),
          60_000,
          `${o.orderId} at the WMS`,
        ),
      ),
    );

    // The deployment: B, already running beside A, becomes current everywhere.
    await promote('B');
    const promotedAt = Date.now();
    // A member's workflow that sleeps until next month gets a task only when something reaches it:
    // a redelivered outcome of a long-past period, which it ignores.
    for (const m of members)
      await env.client.workflow.getHandle(membershipWorkflowId(m.customerId)).signal(eventSignal, membershipCaptured(m.customerId, '1999-01'));

    // Everything runs to its end: delivered (on A's shipments), returned, closed.
    await Promise.all(
      orders.map(async (o) => {
        await eventually(async () => ((await statusOf(o.orderId, o.token)) === 'delivered' ? true : undefined), 90_000, `${o.orderId} delivered`);
        expect((await call('POST', `/v1/orders/${o.orderId}/return`, o.token)).status).toBe(202);
        await eventually(async () => ((await statusOf(o.orderId, o.token)) === 'closed' ? true : undefined), 90_000, `${o.orderId} closed`);
      }),
    );
    await Promise.all(
      fast.map((c) =>
        eventually(
          async () => ((await env.client.workflow.getHandle(membershipWorkflowId(c)).query(membershipStatusQuery)).periodsCompleted >= 4 ? true : undefined),
          60_000,
          `membership ${c} past the deployment`,
        ),
      ),
    );

    // Pinned: the box's short workflows that started before B finished on A (B's shipment code would have failed them).
    for (const o of orders) {
      for (const id of [stylingWorkflowId(o.orderId), reservationWorkflowId(o.orderId), wmsInstructionWorkflowId(o.orderId), shipmentWorkflowId(o.orderId)]) {
        const description = await env.client.workflow.getHandle(id).describe();
        expect({ id, status: description.status.name, build: (await versionOf(id)).build }).toEqual({ id, status: 'COMPLETED', build: 'A' });
        expect(description.startTime.getTime()).toBeLessThan(promotedAt);
      }
      // Started after the promotion: on B.
      expect((await versionOf(returnWorkflowId(o.orderId))).build).toBe('B');
    }
    // Long-lived: each order moved to B and took B's added delivery step (its patch marker).
    for (const o of orders) {
      expect(await versionOf(orderWorkflowId(o.orderId))).toMatchObject({ build: 'B' });
      expect(await markersOf(orderWorkflowId(o.orderId))).toContain('drill-delivered-note');
    }
    // Memberships: running on B; the fast ones' later runs publish before they record (the patch).
    for (const m of members)
      await eventually(
        async () => ((await versionOf(membershipWorkflowId(m.customerId))).build === 'B' ? true : undefined),
        30_000,
        `membership of ${m.customerId} on B`,
      );
    // A fast membership continues as new every 3 s: its newest run may not have run a task yet.
    for (const c of fast)
      await eventually(
        async () =>
          (await versionOf(membershipWorkflowId(c))).build === 'B' && (await markersOf(membershipWorkflowId(c))).includes('drill-announce-first')
            ? true
            : undefined,
        30_000,
        `membership ${c} on B with its patch`,
      );

    // The fast ones would go on billing a period every 3 s: stop them, so the books can be counted.
    for (const c of fast) await env.client.workflow.getHandle(membershipWorkflowId(c)).terminate('drill done');

    // Nothing repeated: one instruction per box at the WMS, one capture per charge key at the PSP,
    // one journal entry per money event, and each box's milestones published once.
    for (const o of orders) expect([...wmsSim.instructions.values()].filter((i) => i.orderId === o.orderId)).toHaveLength(1);
    const captures = new Map<string, number>();
    for (const c of psp.ledger) captures.set(c.metadata.chargeKey, (captures.get(c.metadata.chargeKey) ?? 0) + 1);
    for (const [chargeKey, count] of captures) expect({ chargeKey, count }).toEqual({ chargeKey, count: 1 });
    for (const c of fast) expect([...captures.keys()].filter((k) => k.startsWith(`membership:${c}:`)).length).toBeGreaterThanOrEqual(4);
    const customers = [...members.map((m) => m.customerId), ...fast];
    await eventually(
      async () => {
        const [{ events }] = await buildA.database.sql<{ events: number }[]>`
          select count(*)::int as events from events.event_log where type = 'payment.captured' and data->>'customerId' = any(${customers})`;
        const [{ entries }] = await buildA.database.sql<{ entries: number }[]>`
          select count(*)::int as entries from accounting.journal_entries where customer_id = any(${customers}) and source_event_type = 'payment.captured'`;
        return events > 0 && entries === events && entries === psp.ledger.filter((c) => customers.includes(c.metadata.customerId)).length ? true : undefined;
      },
      60_000,
      'every capture booked once',
    );
    for (const o of orders) {
      const rows = await buildA.database.sql<{ type: string }[]>`select type from events.event_log where correlation_id = ${o.orderId}`;
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
      for (const type of [
        'order.placed',
        'inventory.reserved',
        'shipment.requested',
        'shipment.shipped',
        'shipment.delivered',
        'return.requested',
        'return.arrived',
        'return.completed',
      ])
        expect({ type, count: counts.get(type) }).toEqual({ type, count: 1 });
    }
  }, 400_000);
});
