/**
 * The Web UI reads like a story: after one box's whole life (signup and membership fee, order,
 * delivery, a purchase, the return of the rest, inspection, restock), every workflow of the box
 * and of its member has a static summary and its search attributes, and every activity and child
 * workflow in their histories has a summary. Read from the real histories on the dev server.
 */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import request from 'supertest';
import { createPspSimulator, type PspRunningServer, type PspSimulator } from '../../simulators/psp/server';
import { createWmsSimulator, type WmsRunningServer, type WmsSimulator } from '../../simulators/wms/server';
import { ledgerWorkflowId } from '../../workflows/accounting/contract';
import { cancelOrderUpdate, orderWorkflowId } from '../../workflows/orders/contract';
import { CustomerIdAttribute, OrderIdAttribute } from '../../workflows/search-attributes';
import { signUp, startListeningApi, TEST_WMS_SECRET, type ApiHarness } from '../api/harness';
import { startOrder } from '../support/orders';
import { eventually, seedItems, startSystem, type RunningSystem } from '../support/system';

describe('the story of one box in Temporal', () => {
  let system: RunningSystem;
  let wms: WmsSimulator;
  let wmsServer: WmsRunningServer;
  let psp: PspSimulator;
  let pspServer: PspRunningServer;
  let api: ApiHarness & { url: string };

  beforeAll(async () => {
    api = await startListeningApi();
    wms = createWmsSimulator({ callbackUrl: `${api.url}/v1/webhooks/wms`, webhookSecret: TEST_WMS_SECRET, faults: { stepMs: 100 } });
    wmsServer = await wms.start(0);
    psp = createPspSimulator();
    pspServer = await psp.start(0);
    process.env.INVENTORY_CLEANING_TIME = '1 second';
    system = await startSystem({ wmsUrl: wmsServer.url, pspUrl: pspServer.url });
  });
  afterAll(async () => {
    delete process.env.INVENTORY_CLEANING_TIME;
    await system?.stop();
    await wmsServer?.close();
    await pspServer?.close();
    await api?.close();
  });

  const hasText = (payload: temporal.api.common.v1.IPayload | null | undefined): boolean => (payload?.data?.length ?? 0) > 2;

  /** What keeps each workflow of the box from telling its story in the Web UI. */
  async function storyProblems(found: WorkflowExecutionInfo[], orderId: string, customerId: string): Promise<string[]> {
    const problems: string[] = [];
    for (const w of found) {
      const name = `${w.type} ${w.workflowId}`;
      const description = await system.client.workflow.getHandle(w.workflowId, w.runId).describe();
      if (!(await description.staticSummary())?.trim()) problems.push(`${name}: no static summary`);
      if (w.typedSearchAttributes.get(CustomerIdAttribute) !== customerId) problems.push(`${name}: CustomerId is not ${customerId}`);
      // A member's ledger and membership span many boxes: they carry CustomerId only.
      const customerScoped = !w.workflowId.includes(orderId);
      if (!customerScoped && w.typedSearchAttributes.get(OrderIdAttribute) !== orderId) problems.push(`${name}: OrderId is not ${orderId}`);

      const history = await system.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      for (const event of history.events ?? []) {
        const scheduled = event.activityTaskScheduledEventAttributes;
        if (scheduled && !hasText(event.userMetadata?.summary)) problems.push(`${name}: activity ${scheduled.activityType?.name} without a summary`);
        const child = event.startChildWorkflowExecutionInitiatedEventAttributes;
        if (child && !hasText(event.userMetadata?.summary)) problems.push(`${name}: child ${child.workflowType?.name} ${child.workflowId} without a summary`);
      }
    }
    return problems;
  }

  it('gives every workflow of the box a static summary, OrderId and CustomerId, and every activity and child a summary', async () => {
    const { size } = await seedItems(api.database, ['dress', 'top'], 1);
    const member = await signUp(api.app);
    const { input, handle } = await startOrder(system.client, { customerId: member.customerId, size, categories: ['dress', 'top'], itemCount: 2 });
    const { orderId, customerId } = input;
    const status = async () => (await system.database.sql<{ status: string }[]>`select status from orders.orders where id = ${orderId}`)[0]?.status;
    await eventually(async () => ((await status()) === 'delivered' ? true : undefined), 40_000, 'delivered');
    const [bought] = (await system.database.sql<{ id: string }[]>`select id from inventory.items where size = ${size} order by id`).map((r) => r.id);
    await request(api.app).post(`/v1/orders/${orderId}/items/${bought}/purchase`).set(member.auth).send({}).expect(202);
    await eventually(
      async () => ((await system.database.sql`select 1 from events.event_log where id = ${`inventory:${orderId}:${bought}:sold`}`).length ? true : undefined),
      40_000,
      'item.sold',
    );
    await request(api.app).post(`/v1/orders/${orderId}/return`).set(member.auth).send({}).expect(202);
    await expect(handle.result()).resolves.toEqual({ status: 'closed' });

    // Every workflow of the box, found the way ops find them, plus the member's own workflows.
    const found = await eventually(
      async () => {
        const list = [];
        for await (const w of system.client.workflow.list({
          query: `${OrderIdAttribute.name} = "${orderId}" OR ${CustomerIdAttribute.name} = "${customerId}"`,
        }))
          list.push(w);
        // Closing the order is the last step: wait until visibility has caught up with it.
        return list.some((w) => w.workflowId === orderWorkflowId(orderId) && w.status.name === 'COMPLETED') ? list : undefined;
      },
      20_000,
      'the box in visibility',
    );
    const types = new Set(found.map((w) => w.type));
    for (const type of [
      'orderWorkflow',
      'stylingWorkflow',
      'reservationWorkflow',
      'warehouseInstructionWorkflow',
      'shipmentWorkflow',
      'returnWorkflow',
      'chargeWorkflow',
      'saleWorkflow',
      'ledgerWorkflow',
      'membershipWorkflow',
    ]) {
      expect({ type, present: types.has(type) }).toEqual({ type, present: true });
    }
    expect(found.some((w) => w.workflowId === ledgerWorkflowId(customerId))).toBe(true);

    expect(await storyProblems(found, orderId, customerId)).toEqual([]);
  });

  it('gives the workflows a cancel starts (tombstones included) a static summary too', async () => {
    const { size } = await seedItems(api.database, ['dress'], 1);
    const member = await signUp(api.app);
    const { input, handle } = await startOrder(system.client, { customerId: member.customerId, size, categories: ['dress'], itemCount: 1 });
    await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'changed my mind' }] });
    await expect(handle.result()).resolves.toMatchObject({ status: 'cancelled' });
    const found = await eventually(
      async () => {
        const list = [];
        for await (const w of system.client.workflow.list({ query: `${OrderIdAttribute.name} = "${input.orderId}"` })) list.push(w);
        const done =
          list.some((w) => w.workflowId === orderWorkflowId(input.orderId) && w.status.name === 'COMPLETED') && list.every((w) => w.status.name !== 'RUNNING');
        return done ? list : undefined;
      },
      30_000,
      'the cancelled box in visibility',
    );
    expect(found.map((w) => w.type)).toEqual(expect.arrayContaining(['orderWorkflow', 'reservationWorkflow', 'warehouseInstructionWorkflow']));
    expect(await storyProblems(found, input.orderId, member.customerId)).toEqual([]);
  });
});
