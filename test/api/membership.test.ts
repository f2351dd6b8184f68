/** Signup's card and membership, the payment-method endpoint, and suspended members, through the real API. */
import request from 'supertest';
import { eventSignal, type EventEnvelope } from '../../workflows/bus/contract';
import { membershipStatusQuery, membershipWorkflowId } from '../../workflows/orders/contract';
import type { PaymentFailedData } from '../../workflows/payment/contract';
import { eventually, startSystem, type RunningSystem } from '../support/system';
import { signUp, startApi, type ApiHarness } from './harness';

describe('membership through the API', () => {
  let api: ApiHarness;
  let system: RunningSystem;
  beforeAll(async () => {
    api = await startApi();
    // Orders runs the membership; no payment worker, so the charge waits and the test decides its outcome.
    system = await startSystem({ domains: ['orders'] });
  });
  afterAll(async () => {
    await system?.stop();
    await api?.close();
  });

  const cardOf = async (customerId: string) =>
    (await api.database.sql<{ card_token: string }[]>`select card_token from payment.payment_methods where customer_id = ${customerId}`)[0]?.card_token;

  it('stores the signup card (tok_visa by default), starts the membership once, and lets the member replace the card', async () => {
    const member = await signUp(api.app);
    expect(await cardOf(member.customerId)).toBe('tok_visa');
    const handle = api.env.client.workflow.getHandle(membershipWorkflowId(member.customerId));
    const state = await eventually(async () => handle.query(membershipStatusQuery));
    expect(state).toMatchObject({ customerId: member.customerId, status: 'active', phase: 'awaiting-payment' });

    const declining = await signUp(api.app, { card: { token: 'tok_decline' } });
    expect(await cardOf(declining.customerId)).toBe('tok_decline');
    await request(api.app)
      .put('/v1/me/payment-method')
      .set(declining.auth)
      .send({ card: { token: 'tok_visa' } })
      .expect(200);
    expect(await cardOf(declining.customerId)).toBe('tok_visa');
    await request(api.app)
      .get('/v1/me/payment-method')
      .set(declining.auth)
      .expect(200)
      .expect((res) => expect(res.body.card).toEqual({ token: 'tok_visa' }));
    await request(api.app)
      .put('/v1/me/payment-method')
      .set(declining.auth)
      .send({ card: { token: 'tok_stolen' } })
      .expect(400);
    await request(api.app)
      .put('/v1/me/payment-method')
      .send({ card: { token: 'tok_visa' } })
      .expect(401);
    await request(api.app)
      .post('/v1/auth/signup')
      .send({ card: { token: 'tok_nope' } })
      .expect(400);
  });

  it("refuses a suspended member's new order with 403 membership-suspended", async () => {
    const member = await signUp(api.app, { card: { token: 'tok_decline' } });
    const handle = api.env.client.workflow.getHandle(membershipWorkflowId(member.customerId));
    const { period } = await eventually(async () => handle.query(membershipStatusQuery));
    const chargeKey = `membership:${member.customerId}:${period}`;
    // What the bus delivers when the charge has failed after the last dunning attempt.
    const failed: EventEnvelope<PaymentFailedData> = {
      id: `charge:${chargeKey}:failed`,
      type: 'payment.failed',
      occurredAt: new Date().toISOString(),
      correlationId: member.customerId,
      causationId: `membership:${member.customerId}:${period}:renewal-due`,
      source: { domain: 'payment', workflowId: `charge:${chargeKey}`, runId: 'test' },
      data: { chargeKey, customerId: member.customerId, purpose: 'membership', period, amountCents: 4900, reason: 'card_declined', attempts: 4 },
    };
    await handle.signal(eventSignal, failed);
    await expect(handle.result()).resolves.toMatchObject({ status: 'suspended', period });

    const res = await request(api.app).post('/v1/orders').set(member.auth).send({}).expect(403);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/membership-suspended', status: 403 });
    const rows = await api.database.sql`select id from orders.orders where customer_id = ${member.customerId}`;
    expect(rows).toHaveLength(0);
  });
});
