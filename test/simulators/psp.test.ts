/** PSP simulator: Idempotency-Key semantics, test cards, fault knobs and the capture ledger, over real HTTP. */
import request from 'supertest';
import { PSP_IDEMPOTENCY_KEY_HEADER, PSP_REPLAYED_HEADER, type PspLedgerEntry } from '../../simulators/psp/contract';
import { createPspSimulator, type PspRunningServer, type PspSimulator } from '../../simulators/psp/server';

const charge = (cardToken = 'tok_visa', amountCents = 4900) => ({
  amountCents,
  currency: 'EUR',
  cardToken,
  description: 'membership 2026-11',
  metadata: { chargeKey: 'membership:c_1:2026-11' },
});

describe('PSP simulator', () => {
  let psp: PspSimulator;
  let server: PspRunningServer;
  beforeEach(async () => {
    psp = createPspSimulator({ slowMs: 300 });
    server = await psp.start(0);
  });
  afterEach(async () => server.close());

  const post = (path: string, key: string | undefined, body: unknown) => {
    const req = request(server.url).post(path);
    return (key === undefined ? req : req.set(PSP_IDEMPOTENCY_KEY_HEADER, key)).send(body as object);
  };
  const ledger = async () => (await request(server.url).get('/admin/charges').expect(200)).body.charges as PspLedgerEntry[];

  it('captures a tok_visa charge once and replays the same response for the same key and body', async () => {
    const first = await post('/v1/charges', 'k1', charge()).expect(201);
    expect(first.body).toMatchObject({ status: 'captured', amountCents: 4900, currency: 'EUR' });
    const again = await post('/v1/charges', 'k1', charge()).expect(201);
    expect(again.headers[PSP_REPLAYED_HEADER.toLowerCase()]).toBe('true');
    expect(again.body).toEqual(first.body);
    await request(server.url).get(`/v1/charges/${first.body.chargeId}`).expect(200, first.body);
    expect((await ledger()).map((c) => c.idempotencyKey)).toEqual(['k1']);
  });

  it('requires an Idempotency-Key', async () => {
    const res = await post('/v1/charges', undefined, charge()).expect(400);
    expect(res.body.error).toBe('missing_idempotency_key');
  });

  it('refuses the same key with a different body with 422 idempotency_key_reused', async () => {
    await post('/v1/charges', 'k2', charge()).expect(201);
    const res = await post('/v1/charges', 'k2', charge('tok_visa', 100)).expect(422);
    expect(res.body.error).toBe('idempotency_key_reused');
    expect(await ledger()).toHaveLength(1);
  });

  it('declines tok_decline with 402 card_declined and replays the decline for the same key', async () => {
    const res = await post('/v1/charges', 'k3', charge('tok_decline')).expect(402);
    expect(res.body.error).toBe('card_declined');
    const replay = await post('/v1/charges', 'k3', charge('tok_decline')).expect(402);
    expect(replay.headers[PSP_REPLAYED_HEADER.toLowerCase()]).toBe('true');
    // A new key is a new try: this is why dunning attempts use their own keys.
    await post('/v1/charges', 'k3:attempt-2', charge('tok_decline')).expect(402);
    const funds = await post('/v1/charges', 'k4', charge('tok_insufficient_funds')).expect(402);
    expect(funds.body.error).toBe('insufficient_funds');
    expect(await ledger()).toEqual([]);
  });

  it('answers tok_flaky 503 twice per key, then captures it once', async () => {
    await post('/v1/charges', 'k5', charge('tok_flaky')).expect(503);
    await post('/v1/charges', 'k5', charge('tok_flaky')).expect(503);
    const ok = await post('/v1/charges', 'k5', charge('tok_flaky')).expect(201);
    await post('/v1/charges', 'k5', charge('tok_flaky')).expect(201, ok.body);
    expect((await ledger()).map((c) => c.idempotencyKey)).toEqual(['k5']);
  });

  it('refuses a second request with a key still in flight with 409, and captures once', async () => {
    const slow = post('/v1/charges', 'k6', charge('tok_slow')).then((r) => r);
    await new Promise((r) => setTimeout(r, 50));
    const concurrent = await post('/v1/charges', 'k6', charge('tok_slow')).expect(409);
    expect(concurrent.body.error).toBe('idempotency_key_in_use');
    expect((await slow).status).toBe(201);
    await post('/v1/charges', 'k6', charge('tok_slow')).expect(201);
    expect(await ledger()).toHaveLength(1);
  });

  it('refunds a captured charge once per key and never more than was captured', async () => {
    const { body: ch } = await post('/v1/charges', 'k7', charge()).expect(201);
    const refund = await post('/v1/refunds', 'r7', { chargeId: ch.chargeId, amountCents: 4900 }).expect(201);
    await post('/v1/refunds', 'r7', { chargeId: ch.chargeId, amountCents: 4900 }).expect(201, refund.body);
    const over = await post('/v1/refunds', 'r7b', { chargeId: ch.chargeId, amountCents: 1 }).expect(422);
    expect(over.body.error).toBe('refund_exceeds_charge');
    expect((await request(server.url).get(`/v1/charges/${ch.chargeId}`).expect(200)).body.refundedCents).toBe(4900);
    await post('/v1/refunds', 'r8', { chargeId: 'ch_missing', amountCents: 1 }).expect(404);
  });

  it('injects outages and random failures through /admin/faults without storing them under the key', async () => {
    const until = new Date(Date.now() + 60_000).toISOString();
    await request(server.url).put('/admin/faults').send({ outageUntil: until }).expect(200);
    expect((await post('/v1/charges', 'k9', charge()).expect(503)).body.error).toBe('outage');
    await request(server.url).put('/admin/faults').send({ outageUntil: null, failureRate: 1 }).expect(200);
    expect((await post('/v1/charges', 'k9', charge()).expect(503)).body.error).toBe('unavailable');
    await request(server.url).put('/admin/faults').send({ failureRate: 0 }).expect(200);
    await post('/v1/charges', 'k9', charge()).expect(201);
    await request(server.url).put('/admin/faults').send({ failureRate: 2 }).expect(400);
    expect((await request(server.url).get('/admin/faults').expect(200)).body).toEqual({ failureRate: 0, latencyMs: 0, outageUntil: null });
  });
});
