/**
 * The WMS webhook against the real Temporal server. No warehouse worker runs: a signal-with-start
 * creates the shipment workflow and records the signal in its history, which is what we check.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import request from 'supertest';
import { WMS_SIGNATURE_HEADER, type WmsCallback } from '../../simulators/wms/contract';
import { signWmsPayload } from '../../simulators/wms/signature';
import { returnReceiptWorkflowId, shipmentWorkflowId } from '../../workflows/warehouse/contract';
import { CustomerIdAttribute, OrderIdAttribute } from '../../workflows/search-attributes';
import { expectNoInternals, startApi, TEST_WMS_SECRET, type ApiHarness } from './harness';

let api: ApiHarness;
const started: string[] = [];

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  for (const id of started)
    await api.env.client.workflow
      .getHandle(id)
      .terminate('test cleanup')
      .catch(() => undefined);
  await api?.close();
});

let n = 0;
function callback(overrides: Partial<WmsCallback> = {}): WmsCallback {
  n += 1;
  const orderId = `o_wh${Date.now().toString(36)}${n}`;
  return {
    callbackId: `ins_${orderId}:picked`,
    instructionId: `ins_${orderId}`,
    orderId,
    customerId: 'c_webhooktest',
    status: 'picked',
    occurredAt: new Date().toISOString(),
    ...overrides,
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function post(rawBody: string, signature?: string) {
  const req = request(api.app).post('/v1/webhooks/wms').set('Content-Type', 'application/json');
  if (signature !== undefined) req.set(WMS_SIGNATURE_HEADER, signature);
  return req.send(rawBody);
}

async function expectNoShipment(orderId: string): Promise<void> {
  await expect(api.env.client.workflow.getHandle(shipmentWorkflowId(orderId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

async function signalsOf(orderId: string) {
  const history = await api.env.client.workflow.getHandle(shipmentWorkflowId(orderId)).fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes] : []));
}

describe('POST /v1/webhooks/wms', () => {
  test('a forged signature is 401 invalid-signature, signals nothing, and is logged without the body', async () => {
    const cb = callback();
    const raw = JSON.stringify(cb);
    const forged = signWmsPayload('some-other-secret-0123456789', raw, nowSeconds());
    const res = await post(raw, forged).expect(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/invalid-signature', status: 401, requestId: expect.any(String) });
    await expectNoShipment(cb.orderId);

    const warning = api.logs.find((l) => l.requestId === res.body.requestId && l.msg.includes('bad signature'));
    expect(warning).toMatchObject({ level: 40, reason: 'mismatch', domain: 'api' });
    expect(JSON.stringify(api.logs.filter((l) => l.requestId === res.body.requestId))).not.toContain(cb.orderId);
  });

  test('a missing, malformed, expired or future-dated signature, or a body changed after signing, is 401 too', async () => {
    const cb = callback();
    const raw = JSON.stringify(cb);
    const valid = signWmsPayload(TEST_WMS_SECRET, raw, nowSeconds());
    await post(raw).expect(401);
    await post(raw, 't=abc,v1=zz').expect(401);
    await post(raw, signWmsPayload(TEST_WMS_SECRET, raw, nowSeconds() - 3600)).expect(401);
    // From the future too: a replay window in both directions.
    await post(raw, signWmsPayload(TEST_WMS_SECRET, raw, nowSeconds() + 3600)).expect(401);
    await post(raw.replace('"picked"', '"shipped"'), valid).expect(401);
    // Same JSON, different bytes: the signature covers the raw body, not its parse.
    await post(JSON.stringify(cb, null, 2), valid).expect(401);
    await expectNoShipment(cb.orderId);
  });

  test('a correctly signed callback starts the shipment workflow with the callback as its signal', async () => {
    const cb = callback({ status: 'shipped', callbackId: 'cb-shipped', trackingNumber: 'TRK123' });
    const raw = JSON.stringify(cb);
    const res = await post(raw, signWmsPayload(TEST_WMS_SECRET, raw, nowSeconds())).expect(200);
    started.push(shipmentWorkflowId(cb.orderId));
    expect(res.body).toEqual({ status: 'accepted' });

    const description = await api.env.client.workflow.getHandle(shipmentWorkflowId(cb.orderId)).describe();
    expect(description.type).toBe('shipmentWorkflow');
    expect(description.taskQueue).toBe('warehouse');
    expect(description.status.name).toBe('RUNNING');
    expect(description.typedSearchAttributes.get(OrderIdAttribute)).toBe(cb.orderId);
    expect(description.typedSearchAttributes.get(CustomerIdAttribute)).toBe(cb.customerId);

    const signals = await signalsOf(cb.orderId);
    expect(signals.map((s) => s.signalName)).toEqual(['wmsCallback']);

    // A second callback reaches the same, running workflow.
    const delivered = callback({ orderId: cb.orderId, status: 'delivered', callbackId: 'cb-delivered', trackingNumber: 'TRK123' });
    const raw2 = JSON.stringify(delivered);
    await post(raw2, signWmsPayload(TEST_WMS_SECRET, raw2, nowSeconds())).expect(200, { status: 'accepted' });
    expect((await signalsOf(cb.orderId)).map((s) => s.signalName)).toEqual(['wmsCallback', 'wmsCallback']);
  });

  test('a callback for a shipment that already closed is acknowledged as ignored and starts nothing new', async () => {
    const cb = callback();
    const raw = JSON.stringify(cb);
    await post(raw, signWmsPayload(TEST_WMS_SECRET, raw, nowSeconds())).expect(200, { status: 'accepted' });
    const handle = api.env.client.workflow.getHandle(shipmentWorkflowId(cb.orderId));
    await handle.terminate('shipment closed for the test');
    const { runId } = await handle.describe();

    const late = callback({ orderId: cb.orderId, status: 'packed', callbackId: 'cb-packed' });
    const rawLate = JSON.stringify(late);
    await post(rawLate, signWmsPayload(TEST_WMS_SECRET, rawLate, nowSeconds())).expect(200, { status: 'ignored', reason: 'shipment closed' });
    const after = await handle.describe();
    expect(after.runId).toBe(runId);
    expect(after.status.name).toBe('TERMINATED');
  });

  test('return_arrived starts one return receipt for the box, and a duplicate after it closed starts nothing', async () => {
    const cb = callback({ status: 'return_arrived', callbackId: 'cb-return' });
    const raw = JSON.stringify(cb);
    await post(raw, signWmsPayload(TEST_WMS_SECRET, raw, nowSeconds())).expect(200, { status: 'accepted' });
    const receipt = api.env.client.workflow.getHandle(returnReceiptWorkflowId(cb.orderId));
    started.push(returnReceiptWorkflowId(cb.orderId));
    const description = await receipt.describe();
    expect(description.type).toBe('returnReceiptWorkflow');
    await expectNoShipment(cb.orderId);

    await receipt.terminate('receipt closed for the test');
    await post(raw, signWmsPayload(TEST_WMS_SECRET, raw, nowSeconds())).expect(200, { status: 'ignored', reason: 'return already received' });
    expect((await receipt.describe()).runId).toBe(description.runId);
  });

  test('a signed body that is not JSON, or not a callback, is a 400 problem', async () => {
    const notJson = '{"callbackId":';
    const res = await post(notJson, signWmsPayload(TEST_WMS_SECRET, notJson, nowSeconds())).expect(400);
    expect(res.body.type).toBe('https://closetflow.dev/problems/malformed-json');
    expectNoInternals(res.body);

    const cb = callback();
    const bad = JSON.stringify({ ...cb, status: 'lost' });
    const invalid = await post(bad, signWmsPayload(TEST_WMS_SECRET, bad, nowSeconds())).expect(400);
    expect(invalid.body).toMatchObject({ type: 'https://closetflow.dev/problems/validation-error', errors: [expect.objectContaining({ path: 'status' })] });
    await expectNoShipment(cb.orderId);
  });
});
