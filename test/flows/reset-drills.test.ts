/**
 * Ops drills: a workflow reset repeats no side effect. Every external effect is keyed by business
 * ids, so re-running a workflow from its first workflow task sends no second WMS instruction and
 * publishes no second event.
 */
import type { Client } from '@temporalio/client';
import Long from 'long';
import { correctShippingAddress } from '../../activities/orders/address';
import { createWmsSimulator, type WmsSimulator, type WmsRunningServer } from '../../simulators/wms/server';
import { wmsInstructionWorkflowId } from '../../workflows/warehouse-integration/contract';
import { startListeningApi, TEST_WMS_SECRET, type ApiHarness } from '../api/harness';
import { GOOD_ADDRESS, startOrder } from '../support/orders';
import { eventually, seedItems, startSystem, type RunningSystem } from '../support/system';

/** Resets a workflow to its first workflow task, as `temporal workflow reset --type FirstWorkflowTask` does. */
async function resetToFirstWorkflowTask(client: Client, workflowId: string, reason: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const firstTask = (history.events ?? []).find((e) => e.workflowTaskCompletedEventAttributes);
  const { runId } = (await client.workflowService.resetWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId },
    workflowTaskFinishEventId: Long.fromValue(firstTask!.eventId!),
    reason,
    requestId: `${workflowId}:${reason}`,
  })) as { runId?: string | null };
  return runId!;
}

describe('reset drills', () => {
  let system: RunningSystem;
  let simulator: WmsSimulator;
  let wms: WmsRunningServer;
  let api: ApiHarness & { url: string };

  beforeAll(async () => {
    api = await startListeningApi();
    simulator = createWmsSimulator({
      callbackUrl: `${api.url}/v1/webhooks/wms`,
      webhookSecret: TEST_WMS_SECRET,
      faults: { stepMs: 100 },
    });
    wms = await simulator.start(0);
    system = await startSystem({ wmsUrl: wms.url });
  });
  afterAll(async () => {
    await system?.stop();
    await wms?.close();
    await api?.close();
  });

  const instructionsFor = (orderId: string) => [...simulator.instructions.values()].filter((i) => i.orderId === orderId);
  const eventIds = async (orderId: string) =>
    (await system.database.sql<{ id: string }[]>`select id from events.event_log where correlation_id = ${orderId} order by seq`).map((r) => r.id);
  const status = async (orderId: string) => (await system.database.sql<{ status: string }[]>`select status from orders.orders where id = ${orderId}`)[0]?.status;

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

    // The drill: correct the address, then reset to the first workflow task.
    expect(await correctShippingAddress(system.database.db, input.orderId, GOOD_ADDRESS)).toBe(true);
    await resetToFirstWorkflowTask(system.client, wmsHandle.workflowId, 'address corrected by ops');

    await eventually(async () => ((await status(input.orderId)) === 'delivered' ? true : undefined), 40_000, 'delivered');
    const accepted = instructionsFor(input.orderId);
    expect(accepted).toHaveLength(1);
    expect(accepted[0].address.line1).toBe(GOOD_ADDRESS.line1);
    const ids = await eventIds(input.orderId);
    // shipment.rejected stays in the timeline as history; every event appears once.
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining([`wms:${input.orderId}:rejected`, `wms:${input.orderId}:shipment-requested`, `shipment:${input.orderId}:delivered`]));
  });

  it('sends no second instruction and publishes no second event when a finished instruction workflow is reset', async () => {
    const { size } = await seedItems(system.database, ['top'], 1);
    const { input } = await startOrder(system.client, { size, categories: ['top'], itemCount: 1 });
    await eventually(async () => ((await status(input.orderId)) === 'delivered' ? true : undefined), 40_000, 'delivered');
    const before = await eventIds(input.orderId);
    expect(instructionsFor(input.orderId)).toHaveLength(1);

    const wmsWorkflowId = wmsInstructionWorkflowId(input.orderId);
    const runId = await resetToFirstWorkflowTask(system.client, wmsWorkflowId, 'drill: re-run a completed workflow');
    await system.client.workflow.getHandle(wmsWorkflowId, runId).result().catch(() => undefined);
    await eventually(async () => ((await system.client.workflow.getHandle(wmsWorkflowId, runId).describe()).status.name !== 'RUNNING' ? true : undefined));

    expect(instructionsFor(input.orderId)).toHaveLength(1);
    expect(await eventIds(input.orderId)).toEqual(before);
  });
});
