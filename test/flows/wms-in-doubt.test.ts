/**
 * A WMS instruction whose outcome is in doubt: the WMS accepted it and the answer was lost. A
 * cancel or a corrected address during the doubt must resolve it with the WMS first, never assume
 * nothing was sent; and callbacks for a cancelled box start nothing. Real workers, dev server,
 * PostgreSQL, the API on a real port and the WMS simulator (losing answers on purpose), which
 * counts the instructions it accepted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../../api/app';
import { correctShippingAddress } from '../../store/orders/orders';
import { WMS_SIGNATURE_HEADER } from '../../simulators/wms/contract';
import { createWmsSimulator, type WmsRunningServer, type WmsSimulator } from '../../simulators/wms/server';
import { signWmsPayload } from '../../simulators/wms/signature';
import { cancelOrderUpdate } from '../../workflows/orders/contract';
import { shipmentWorkflowId } from '../../workflows/warehouse/contract';
import { wmsInstructionWorkflowId } from '../../workflows/warehouse-integration/contract';
import { GOOD_ADDRESS, startOrder } from '../support/orders';
import { eventually, seedItems, startSystem, timelineTypes, type RunningSystem } from '../support/system';
import { testConfig, TEST_WMS_SECRET } from '../api/harness';

describe('a WMS instruction in doubt', () => {
  let system: RunningSystem;
  let wms: WmsSimulator;
  let wmsServer: WmsRunningServer;
  let apiServer: http.Server;
  let apiUrl: string;
  let app: ReturnType<typeof createApp> | undefined;

  beforeAll(async () => {
    // The WMS calls this API back; until the app exists its callbacks are refused and retried.
    apiServer = http.createServer((req, res) => {
      if (app) return app(req, res);
      res.statusCode = 503;
      res.end();
    });
    await new Promise<void>((resolve) => apiServer.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
    wms = createWmsSimulator({ callbackUrl: `${apiUrl}/v1/webhooks/wms`, webhookSecret: TEST_WMS_SECRET, faults: { stepMs: 1_500 } });
    wmsServer = await wms.start(0);
    system = await startSystem({ domains: ['orders', 'styling', 'inventory', 'warehouse-integration', 'warehouse'], wmsUrl: wmsServer.url });
    app = createApp({ config: testConfig(), database: system.database, temporal: system.client, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await wmsServer?.close();
    await system?.stop();
    apiServer?.closeAllConnections();
    await new Promise((resolve) => apiServer?.close(resolve));
  });

  const instructionsFor = (orderId: string) => [...wms.instructions.values()].filter((i) => i.orderId === orderId);
  const status = async (orderId: string) =>
    (await system.database.sql<{ status: string }[]>`select status from orders.orders where id = ${orderId}`)[0]?.status;
  const waitForStatus = (orderId: string, wanted: string, timeoutMs = 40_000) =>
    eventually(async () => ((await status(orderId)) === wanted ? true : undefined), timeoutMs, `order ${orderId} ${wanted}`);
  const shipmentExists = (orderId: string) =>
    system.client.workflow
      .getHandle(shipmentWorkflowId(orderId))
      .describe()
      .then(
        () => true,
        () => false,
      );

  /** Places a box, lets the WMS accept its instruction and lose the answer, then takes the WMS down. */
  async function instructionInDoubt(address = GOOD_ADDRESS) {
    const { size } = await seedItems(system.database, ['dress'], 1);
    wms.faults.loseAnswers = 1;
    const { input, handle } = await startOrder(system.client, { size, categories: ['dress'], itemCount: 1, address });
    await eventually(async () => (instructionsFor(input.orderId).length > 0 ? true : undefined), 30_000, 'the WMS to accept the instruction');
    // The answer was lost; retries now meet an outage, so the doubt lasts while the test acts.
    wms.faults.outageUntil = new Date(Date.now() + 3_600_000).toISOString();
    expect(wms.faults.loseAnswers).toBe(0);
    return { input, handle };
  }

  afterEach(() => {
    wms.faults.outageUntil = null;
    wms.faults.loseAnswers = 0;
  });

  it('cancels at the WMS an instruction whose acceptance was lost, so the box never ships', async () => {
    // Slow enough that the box is still unpicked when the cancel reaches the WMS.
    wms.faults.stepMs = 8_000;
    const { input, handle } = await instructionInDoubt();
    await handle.startUpdate(cancelOrderUpdate, { args: [{ reason: 'changed my mind' }], waitForStage: 'ACCEPTED' });
    // The cancel must learn from the WMS what became of the attempt: it waits for the WMS to answer.
    await new Promise((r) => setTimeout(r, 2_000));
    wms.faults.outageUntil = null;
    await waitForStatus(input.orderId, 'cancelled');

    const [instruction] = instructionsFor(input.orderId);
    expect(instructionsFor(input.orderId)).toHaveLength(1);
    expect(instruction.status).toBe('cancelled');
    const [cancelled] = await system.database.sql<{ data: { instructionCancelled: boolean } }[]>`
      select data from events.event_log where id = ${`wms:${input.orderId}:cancelled`}`;
    expect(cancelled.data.instructionCancelled).toBe(true);
    // Long enough for the first steps and their callbacks, had the WMS gone on with the box.
    wms.faults.stepMs = 300;
    await new Promise((r) => setTimeout(r, 3_000));
    expect(instruction.history.map((h) => h.status)).toEqual(['accepted', 'cancelled']);
    expect(await shipmentExists(input.orderId)).toBe(false);
    expect(await timelineTypes(system.database, input.orderId)).not.toContain('shipment.shipped');
  });

  it('ships one box, not two, when ops correct the address while the first instruction is in doubt', async () => {
    wms.faults.stepMs = 300;
    const { input } = await instructionInDoubt();
    expect(await correctShippingAddress(system.database.db, input.orderId, { ...GOOD_ADDRESS, line1: '2 Corrected Road' })).toBe(true);
    wms.faults.outageUntil = null;
    // The callbacks of the accepted instruction may deliver the box before the send's retry
    // settles its doubt: wait for the instruction workflow itself to finish.
    await expect(system.client.workflow.getHandle(wmsInstructionWorkflowId(input.orderId)).result()).resolves.toMatchObject({ outcome: 'handed-over' });
    await waitForStatus(input.orderId, 'delivered');
    // The WMS accepted the first instruction before the correction: that one ships, and no second.
    expect(instructionsFor(input.orderId).map((i) => i.address.line1)).toEqual([GOOD_ADDRESS.line1]);
  });

  it('starts no shipment and no return for a callback about a cancelled box', async () => {
    const { size } = await seedItems(system.database, ['dress'], 1);
    const { input, handle } = await startOrder(system.client, { size, categories: ['dress'], itemCount: 1 });
    await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'early' }] });
    await waitForStatus(input.orderId, 'cancelled');

    for (const wmsStatus of ['shipped', 'return_arrived']) {
      const body = JSON.stringify({
        callbackId: `wms_stray:${wmsStatus}`,
        instructionId: 'wms_stray',
        orderId: input.orderId,
        customerId: input.customerId,
        status: wmsStatus,
        occurredAt: new Date().toISOString(),
      });
      const res = await fetch(`${apiUrl}/v1/webhooks/wms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [WMS_SIGNATURE_HEADER]: signWmsPayload(TEST_WMS_SECRET, body, Math.floor(Date.now() / 1000)) },
        body,
      });
      expect({ wmsStatus, status: res.status, body: await res.json() }).toEqual({
        wmsStatus,
        status: 200,
        body: { status: 'ignored', reason: 'order cancelled' },
      });
    }
    expect(await shipmentExists(input.orderId)).toBe(false);
    const receipts = await system.client.workflow
      .getHandle(`return-receipt:${input.orderId}`)
      .describe()
      .then(
        () => 1,
        () => 0,
      );
    expect(receipts).toBe(0);
  });
});
