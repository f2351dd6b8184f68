import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { WMS_SIGNATURE_HEADER, type WmsCallback } from '../../simulators/wms/contract';
import { createWmsSimulator, type WmsSimulator, type WmsSimulatorOptions } from '../../simulators/wms/server';
import { signWmsPayload, verifyWmsSignature } from '../../simulators/wms/signature';

const SECRET = 'test-wms-webhook-secret-0123456789';

interface Received {
  rawBody: string;
  signature: string | undefined;
  callback: WmsCallback;
  answeredWith: number;
}

/** A real HTTP receiver standing in for closetflow's webhook endpoint. */
async function startReceiver(answer: (callback: WmsCallback, attempt: number) => number = () => 204) {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const callback = JSON.parse(rawBody) as WmsCallback;
      const attempt = (attempts.get(callback.callbackId) ?? 0) + 1;
      attempts.set(callback.callbackId, attempt);
      const status = answer(callback, attempt);
      received.push({ rawBody, signature: req.headers[WMS_SIGNATURE_HEADER.toLowerCase()] as string, callback, answeredWith: status });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/webhooks/wms`;
  return {
    url,
    received,
    /** Callbacks the receiver accepted (2xx), in arrival order. */
    accepted: () => received.filter((r) => r.answeredWith < 300).map((r) => r.callback),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function instructionBody(overrides: Partial<{ orderId: string; line1: string }> = {}) {
  return {
    orderId: overrides.orderId ?? 'ord_1',
    customerId: 'cus_1',
    items: [
      { itemId: 'itm_1', sku: 'DRESS-RED-M' },
      { itemId: 'itm_2', sku: 'COAT-BLK-S' },
    ],
    address: { name: 'Ada Lovelace', line1: overrides.line1 ?? '12 Analytical St', city: 'London', postcode: 'N1 9GU', country: 'GB' },
  };
}

describe('WMS simulator', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let sim: WmsSimulator;
  let server: { url: string; close(): Promise<void> } | null = null;

  async function boot(options: Partial<WmsSimulatorOptions> = {}, answer?: (callback: WmsCallback, attempt: number) => number) {
    receiver = await startReceiver(answer);
    sim = createWmsSimulator({
      callbackUrl: receiver.url,
      webhookSecret: SECRET,
      seed: 42,
      callbackRetry: { initialDelayMs: 10, maxDelayMs: 40 },
      ...options,
      faults: { stepMs: 20, ...options.faults },
    });
    server = await sim.start(0);
    return server.url;
  }

  function create(url: string, key: string, body: unknown = instructionBody()) {
    return request(url)
      .post('/v1/instructions')
      .set('Idempotency-Key', key)
      .send(body as object);
  }

  afterEach(async () => {
    await server?.close();
    server = null;
    await receiver?.close();
  });

  it('accepts an instruction and reports its state', async () => {
    const url = await boot({ faults: { stepMs: 1000 } });
    const res = await create(url, 'key-1');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ instructionId: 'wms_1', status: 'accepted' });
    const state = await request(url).get('/v1/instructions/wms_1');
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ instructionId: 'wms_1', orderId: 'ord_1', status: 'accepted' });
    expect((await request(url).get('/v1/instructions/wms_999')).status).toBe(404);
    expect((await request(url).get('/healthz')).body).toMatchObject({ status: 'ok' });
  });

  it('requires an Idempotency-Key and a valid body', async () => {
    const url = await boot();
    const noKey = await request(url).post('/v1/instructions').send(instructionBody());
    expect(noKey.status).toBe(400);
    const bad = await create(url, 'key-bad', { orderId: 'ord_1', items: [] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
    expect(bad.body.detail).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'customerId' })]));
    const malformed = await request(url).post('/v1/instructions').set('Idempotency-Key', 'key-json').set('content-type', 'application/json').send('{not json');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('invalid_request');
    expect(sim.instructions.size).toBe(0);
  });

  it('replays the original response for a repeated Idempotency-Key', async () => {
    const url = await boot({ faults: { stepMs: 1000 } });
    const first = await create(url, 'key-replay');
    // Same body with keys in a different order is the same request.
    const { address, items, customerId, orderId } = instructionBody();
    const second = await create(url, 'key-replay', { address, items, customerId, orderId });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(sim.instructions.size).toBe(1);
    const other = await create(url, 'key-other');
    expect(other.body.instructionId).toBe('wms_2');
  });

  it('refuses a reused key with a different body', async () => {
    const url = await boot({ faults: { stepMs: 1000 } });
    await create(url, 'key-reuse');
    const res = await create(url, 'key-reuse', instructionBody({ orderId: 'ord_2' }));
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('idempotency_key_reused');
    expect(sim.instructions.size).toBe(1);
  });

  it('rejects an address matching the reject pattern, and remembers it for the key', async () => {
    const url = await boot();
    const res = await create(url, 'key-rej', instructionBody({ line1: '1 Please reject Me Road' }));
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('address_rejected');
    expect(res.body.detail).toMatch(/^cannot deliver to/);
    // Even if the pattern is switched off, the key keeps its original answer.
    await request(url).put('/admin/faults').send({ rejectAddressPattern: '' }).expect(200);
    const again = await create(url, 'key-rej', instructionBody({ line1: '1 Please reject Me Road' }));
    expect(again.status).toBe(422);
    expect(again.body).toEqual(res.body);
    expect(sim.instructions.size).toBe(0);
    const fresh = await create(url, 'key-rej-2', instructionBody({ line1: '1 Please reject Me Road' }));
    expect(fresh.status).toBe(201);
  });

  it('sends signed picked, packed, shipped and delivered callbacks in order', async () => {
    const url = await boot();
    const { body } = await create(url, 'key-flow');
    await waitFor(() => receiver.accepted().length === 4);
    await sleep(60);
    const callbacks = receiver.accepted();
    expect(callbacks.map((c) => c.status)).toEqual(['picked', 'packed', 'shipped', 'delivered']);
    expect(callbacks.map((c) => c.callbackId)).toEqual([
      `${body.instructionId}:picked`,
      `${body.instructionId}:packed`,
      `${body.instructionId}:shipped`,
      `${body.instructionId}:delivered`,
    ]);
    for (const c of callbacks) {
      expect(c).toMatchObject({ instructionId: body.instructionId, orderId: 'ord_1', customerId: 'cus_1' });
      expect(Number.isNaN(Date.parse(c.occurredAt))).toBe(false);
    }
    expect(callbacks[0]!.trackingNumber).toBeUndefined();
    expect(callbacks[2]!.trackingNumber).toMatch(/^CFTRK/);
    expect(callbacks[3]!.trackingNumber).toBe(callbacks[2]!.trackingNumber);
    for (const r of receiver.received) {
      expect(r.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyWmsSignature({ secret: SECRET, rawBody: r.rawBody, header: r.signature, nowSeconds: Date.now() / 1000 })).toEqual({ ok: true });
    }
    const state = await request(url).get(`/v1/instructions/${body.instructionId}`);
    expect(state.body.status).toBe('delivered');
  });

  it('stops sending callbacks after a cancel', async () => {
    // Steps far enough apart that the cancel lands between picked and packed even on a busy machine.
    const url = await boot({ faults: { stepMs: 250 } });
    const { body } = await create(url, 'key-cancel');
    await waitFor(() => receiver.accepted().length === 1);
    const cancel = await request(url).post(`/v1/instructions/${body.instructionId}/cancel`).set('Idempotency-Key', 'c-1');
    expect(cancel.status).toBe(200);
    expect(cancel.body).toEqual({ status: 'cancelled' });
    await sleep(900); // past where packed, shipped and delivered would have been sent
    expect(receiver.received.map((r) => r.callback.status)).toEqual(['picked']);
    const again = await request(url).post(`/v1/instructions/${body.instructionId}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'cancelled' });
    expect((await request(url).get(`/v1/instructions/${body.instructionId}`)).body.status).toBe('cancelled');
    expect((await request(url).post('/v1/instructions/wms_404/cancel')).status).toBe(404);
  });

  it('refuses to cancel after shipment', async () => {
    const url = await boot();
    const { body } = await create(url, 'key-shipped');
    await waitFor(() => receiver.accepted().some((c) => c.status === 'shipped'));
    const res = await request(url).post(`/v1/instructions/${body.instructionId}/cancel`);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('already_shipped');
    await waitFor(() => receiver.accepted().length === 4);
  });

  it('answers 503 during an outage window and recovers after it', async () => {
    const url = await boot();
    const until = new Date(Date.now() + 500).toISOString();
    const put = await request(url).put('/admin/faults').send({ outageUntil: until });
    expect(put.status).toBe(200);
    expect(put.body.outageUntil).toBe(until);
    const during = await create(url, 'key-outage');
    expect(during.status).toBe(503);
    expect(during.body.error).toBe('outage');
    expect(during.headers['retry-after']).toBeDefined();
    await sleep(Date.parse(until) - Date.now() + 20);
    const after = await create(url, 'key-outage');
    expect(after.status).toBe(201);
    expect(after.body.instructionId).toBe('wms_1');
  });

  it('answers 503 to every instruction call when failureRate is 1, and not when it is 0', async () => {
    const url = await boot();
    await request(url).put('/admin/faults').send({ failureRate: 1 }).expect(200);
    expect((await create(url, 'key-fail')).status).toBe(503);
    expect((await create(url, 'key-fail')).body).toEqual({ error: 'unavailable' });
    await request(url).put('/admin/faults').send({ failureRate: 0 }).expect(200);
    expect((await create(url, 'key-fail')).status).toBe(201);
  });

  it('adds the configured latency', async () => {
    const url = await boot({ faults: { latencyMs: 150, stepMs: 1000 } });
    const started = Date.now();
    expect((await create(url, 'key-slow')).status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('accepts an instruction whose answer it then loses, and replays it to the retry with the same key', async () => {
    const url = await boot({ faults: { stepMs: 60_000 } });
    sim.faults.loseAnswers = 1;
    await expect(create(url, 'key-lost')).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect([...sim.instructions.values()].map((i) => i.status)).toEqual(['accepted']);
    const retry = await create(url, 'key-lost');
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(sim.instructions.size).toBe(1);
  });

  it("holds an answer past the caller's timeout after the instruction took effect", async () => {
    const url = await boot({ faults: { stepMs: 60_000, answerDelayMs: 1_000 } });
    await expect(create(url, 'key-late').timeout(200)).rejects.toThrow(/Timeout/);
    expect(sim.instructions.size).toBe(1);
  });

  it('resolves a create by key: accepted, refused, or voided so a late create can never take effect', async () => {
    const url = await boot({ faults: { stepMs: 60_000 } });
    const accepted = await create(url, 'key-ok');
    await create(url, 'key-bad', instructionBody({ orderId: 'ord_2', line1: 'REJECT me' }));
    const resolve = (key: string) => request(url).post('/v1/instructions/resolve').send({ idempotencyKey: key });
    expect((await resolve('key-ok')).body).toEqual({ outcome: 'accepted', instructionId: accepted.body.instructionId, status: 'accepted' });
    expect((await resolve('key-bad')).body).toMatchObject({ outcome: 'refused', error: 'address_rejected' });
    expect((await resolve('key-never')).body).toEqual({ outcome: 'voided' });
    const late = await create(url, 'key-never', instructionBody({ orderId: 'ord_3' }));
    expect(late.status).toBe(409);
    expect(late.body.error).toBe('idempotency_key_voided');
    expect([...sim.instructions.values()].map((i) => i.orderId)).toEqual(['ord_1']);
  });

  it('refuses a create that was still in flight (latency) when its key was resolved', async () => {
    const url = await boot({ faults: { stepMs: 60_000, latencyMs: 300 } });
    const inFlight = create(url, 'key-race').then((r) => r);
    await sleep(100);
    sim.faults.latencyMs = 0; // the create already waits out its latency; the resolve does not
    expect((await request(url).post('/v1/instructions/resolve').send({ idempotencyKey: 'key-race' })).body).toEqual({ outcome: 'voided' });
    expect((await inFlight).status).toBe(409);
    expect(sim.instructions.size).toBe(0);
  });

  it('validates fault updates', async () => {
    const url = await boot();
    expect((await request(url).put('/admin/faults').send({ failureRate: 2 })).status).toBe(400);
    expect((await request(url).put('/admin/faults').send({ failurRate: 0.1 })).status).toBe(400);
    expect((await request(url).put('/admin/faults').send({ outageUntil: 'soon' })).status).toBe(400);
    const ok = await request(url).put('/admin/faults').send({ stepMs: 5, duplicateRate: 0.5 });
    expect(ok.status).toBe(200);
    expect((await request(url).get('/admin/faults')).body).toMatchObject({ stepMs: 5, duplicateRate: 0.5, failureRate: 0 });
  });

  it('retries a callback the receiver refused, keeping later callbacks queued behind it', async () => {
    const url = await boot({}, (callback, attempt) => (callback.status === 'picked' && attempt <= 2 ? 503 : 200));
    await create(url, 'key-retry');
    await waitFor(() => receiver.accepted().length === 4);
    expect(receiver.received.map((r) => `${r.callback.status}:${r.answeredWith}`)).toEqual([
      'picked:503',
      'picked:503',
      'picked:200',
      'packed:200',
      'shipped:200',
      'delivered:200',
    ]);
    // Every attempt is freshly signed and verifiable.
    for (const r of receiver.received) {
      expect(verifyWmsSignature({ secret: SECRET, rawBody: r.rawBody, header: r.signature, nowSeconds: Date.now() / 1000 }).ok).toBe(true);
    }
  });

  it('gives up on a callback after the last attempt and moves on to the next', async () => {
    const url = await boot({ callbackRetry: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 } }, () => 500);
    await create(url, 'key-dead');
    await waitFor(() => sim.deadLetters.length === 4);
    expect(sim.deadLetters.map((d) => [d.callback.status, d.attempts])).toEqual([
      ['picked', 3],
      ['packed', 3],
      ['shipped', 3],
      ['delivered', 3],
    ]);
    expect(receiver.received).toHaveLength(12);
  });

  it('sends duplicates with the same callbackId when duplicateRate is 1', async () => {
    const url = await boot({ faults: { duplicateRate: 1 } });
    await create(url, 'key-dup');
    await waitFor(() => receiver.accepted().length === 8);
    const ids = receiver.accepted().map((c) => c.callbackId);
    expect(ids).toEqual([
      'wms_1:picked',
      'wms_1:picked',
      'wms_1:packed',
      'wms_1:packed',
      'wms_1:shipped',
      'wms_1:shipped',
      'wms_1:delivered',
      'wms_1:delivered',
    ]);
    const [a, b] = receiver.accepted();
    expect(b).toEqual(a);
  });

  it('swaps packed and shipped when outOfOrderRate is 1', async () => {
    const url = await boot({ faults: { outOfOrderRate: 1 } });
    await create(url, 'key-ooo');
    await waitFor(() => receiver.accepted().length === 4);
    expect(receiver.accepted().map((c) => c.status)).toEqual(['picked', 'shipped', 'packed', 'delivered']);
  });

  it('sends a return_arrived callback once the items come back', async () => {
    const url = await boot();
    const { body } = await create(url, 'key-return');
    const early = await request(url).post(`/v1/instructions/${body.instructionId}/return-arrival`);
    expect(early.status).toBe(409);
    expect(early.body.error).toBe('not_delivered');
    await waitFor(() => receiver.accepted().length === 4);
    const res = await request(url).post(`/v1/instructions/${body.instructionId}/return-arrival`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'return_arrived' });
    await waitFor(() => receiver.accepted().length === 5);
    expect(receiver.accepted()[4]).toMatchObject({ callbackId: `${body.instructionId}:return_arrived`, status: 'return_arrived' });
    // Repeating the trigger is harmless.
    expect((await request(url).post(`/v1/instructions/${body.instructionId}/return-arrival`)).status).toBe(200);
    await sleep(60);
    expect(receiver.accepted()).toHaveLength(5);
  });

  it('makes the same fault decisions for the same seed', async () => {
    async function run(): Promise<number[]> {
      const url = await boot({ seed: 'repeatable', faults: { failureRate: 0.5, stepMs: 1000 } });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await create(url, `key-seed-${i}`)).status);
      await server!.close();
      server = null;
      await receiver.close();
      return statuses;
    }
    const first = await run();
    const second = await run();
    expect(second).toEqual(first);
    expect(first).toContain(503);
    expect(first).toContain(201);
  });
});

describe('WMS callback signatures', () => {
  const rawBody = JSON.stringify({ callbackId: 'wms_1:picked', status: 'picked' });
  const t = 1_800_000_000;
  const header = signWmsPayload(SECRET, rawBody, t);

  it('accepts a genuine signature, from a string or a Buffer body', () => {
    expect(verifyWmsSignature({ secret: SECRET, rawBody, header, nowSeconds: t + 10 })).toEqual({ ok: true });
    expect(verifyWmsSignature({ secret: SECRET, rawBody: Buffer.from(rawBody), header, nowSeconds: t })).toEqual({ ok: true });
  });

  it('rejects a tampered signature', () => {
    const tamperedBody = rawBody.replace('picked', 'packed');
    expect(verifyWmsSignature({ secret: SECRET, rawBody: tamperedBody, header, nowSeconds: t })).toEqual({ ok: false, reason: 'mismatch' });
    const flipped = header.replace(/v1=(.)/, (_m, c: string) => `v1=${c === '0' ? '1' : '0'}`);
    expect(verifyWmsSignature({ secret: SECRET, rawBody, header: flipped, nowSeconds: t })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWmsSignature({ secret: 'another-secret-entirely', rawBody, header, nowSeconds: t })).toEqual({ ok: false, reason: 'mismatch' });
    // Re-stamping the timestamp without re-signing breaks the signature too.
    const restamped = header.replace(`t=${t}`, `t=${t + 1}`);
    expect(verifyWmsSignature({ secret: SECRET, rawBody, header: restamped, nowSeconds: t })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects a stale, missing or malformed signature', () => {
    expect(verifyWmsSignature({ secret: SECRET, rawBody, header, nowSeconds: t + 301 })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyWmsSignature({ secret: SECRET, rawBody, header, nowSeconds: t + 1000, toleranceSeconds: 2000 })).toEqual({ ok: true });
    expect(verifyWmsSignature({ secret: SECRET, rawBody, header: undefined, nowSeconds: t })).toEqual({ ok: false, reason: 'missing' });
    expect(verifyWmsSignature({ secret: SECRET, rawBody, header: '', nowSeconds: t })).toEqual({ ok: false, reason: 'missing' });
    for (const bad of ['garbage', `t=${t}`, 'v1=abc', `t=abc,v1=${'0'.repeat(64)}`, `t=${t},v1=xyz`]) {
      expect(verifyWmsSignature({ secret: SECRET, rawBody, header: bad, nowSeconds: t })).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('accepts any of several v1 signatures, as during secret rotation', () => {
    const oldSig = signWmsPayload('the-old-secret-value', rawBody, t).split('v1=')[1];
    const rotated = `${header},v1=${oldSig}`;
    expect(verifyWmsSignature({ secret: SECRET, rawBody, header: rotated, nowSeconds: t })).toEqual({ ok: true });
    expect(verifyWmsSignature({ secret: 'the-old-secret-value', rawBody, header: rotated, nowSeconds: t })).toEqual({ ok: true });
  });
});
