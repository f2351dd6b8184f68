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
    expect((await request(server.url).get('/admin/faults').expect(200)).body).toEqual({
      failureRate: 0,
      latencyMs: 0,
      outageUntil: null,
      refuseRate: 0,
      lostAnswerRate: 0,
      loseAnswers: 0,
      answerDelayMs: 0,
    });
  });

  it('captures a charge whose answer it then loses, and replays the capture to the retry with the same key', async () => {
    psp.faults.loseAnswers = 1;
    await expect(post('/v1/charges', 'lost-1', charge())).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await ledger()).map((c) => c.idempotencyKey)).toEqual(['lost-1']);
    const retry = await post('/v1/charges', 'lost-1', charge()).expect(201);
    expect(retry.headers[PSP_REPLAYED_HEADER.toLowerCase()]).toBe('true');
    expect(await ledger()).toHaveLength(1);
  });

  it("holds an answer past the caller's timeout after the charge took effect", async () => {
    psp.faults.answerDelayMs = 1_000;
    await expect(post('/v1/charges', 'late-1', charge()).timeout(200)).rejects.toThrow(/Timeout/);
    expect((await ledger()).map((c) => c.idempotencyKey)).toEqual(['late-1']);
  });

  it('resolves a lost charge by key: captured, declined, refused, or voided so it can never capture later', async () => {
    const captured = await post('/v1/charges', 'r-ok', charge()).expect(201);
    await post('/v1/charges', 'r-no', charge('tok_decline')).expect(402);
    psp.faults.refuseRate = 1;
    await post('/v1/charges', 'r-bad', charge()).expect(400);
    psp.faults.refuseRate = 0;
    const resolve = (key: string) => post('/v1/charges/resolve', `${key}:resolve`, { idempotencyKey: key }).expect(200);
    expect((await resolve('r-ok')).body).toEqual({ outcome: 'captured', chargeId: captured.body.chargeId, amountCents: 4900 });
    expect((await resolve('r-no')).body).toEqual({ outcome: 'declined', code: 'card_declined' });
    expect((await resolve('r-bad')).body).toEqual({ outcome: 'refused', status: 400, error: 'invalid_request' });
    expect((await resolve('r-never')).body).toEqual({ outcome: 'voided' });
    const late = await post('/v1/charges', 'r-never', charge()).expect(409);
    expect(late.body.error).toBe('idempotency_key_voided');
    expect((await ledger()).map((c) => c.idempotencyKey)).toEqual(['r-ok']);
  });

  it('answers 409 to a resolve while the charge is still being processed, and voids a charge that arrives after a resolve', async () => {
    psp.faults.latencyMs = 400;
    // supertest sends on then(): start it now, answer later.
    const inFlight = post('/v1/charges', 'r-slow', charge()).then((r) => r);
    await new Promise((r) => setTimeout(r, 100));
    const busy = await post('/v1/charges/resolve', 'x', { idempotencyKey: 'r-slow' }).expect(409);
    expect(busy.body.error).toBe('idempotency_key_in_use');
    expect((await inFlight).status).toBe(201);
    expect((await post('/v1/charges/resolve', 'x', { idempotencyKey: 'r-slow' }).expect(200)).body.outcome).toBe('captured');
  });

  it('refuses charges and refunds for good when refuseRate is 1, and stores the refusal under the key', async () => {
    const captured = await post('/v1/charges', 'rf-1', charge()).expect(201);
    psp.faults.refuseRate = 1;
    await post('/v1/refunds', 'rf-refund', { chargeId: captured.body.chargeId, amountCents: 100 }).expect(400);
    psp.faults.refuseRate = 0;
    const again = await post('/v1/refunds', 'rf-refund', { chargeId: captured.body.chargeId, amountCents: 100 }).expect(400);
    expect(again.headers[PSP_REPLAYED_HEADER.toLowerCase()]).toBe('true');
  });
});
