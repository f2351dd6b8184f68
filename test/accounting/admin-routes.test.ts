/** Admin reads of the ledger: admin role only. */
import request from 'supertest';
import { ensureAdminAccount } from '../../api/admin/bootstrap';
import { signUp, startApi, uniqueEmail, type ApiHarness } from '../api/harness';
import { uniqueId } from '../support/system';
import { accountingActivities, inPeriod, membershipCaptured, uniquePeriod } from './support';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

async function adminToken(): Promise<string> {
  const email = uniqueEmail('admin');
  await ensureAdminAccount(api.database.db, { email, password: 'first admin password' });
  // Created or updated: running it again changes the password and keeps one account.
  await ensureAdminAccount(api.database.db, { email, password: 'second admin password' });
  await request(api.app).post('/v1/auth/login').send({ email, password: 'first admin password' }).expect(401);
  const res = await request(api.app).post('/v1/auth/login').send({ email, password: 'second admin password' }).expect(200);
  return res.body.token as string;
}

describe('/admin/accounting', () => {
  test('answers 401 without a token and 403 forbidden for a customer', async () => {
    await request(api.app).get('/admin/accounting/trial-balance?period=2026-01').expect(401);
    const member = await signUp(api.app);
    const res = await request(api.app).get('/admin/accounting/trial-balance?period=2026-01').set(member.auth).expect(403);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/forbidden', status: 403 });
    await request(api.app).get('/admin/accounting/ledger?period=2026-01').set(member.auth).expect(403);
  });

  test('an admin reads the trial balance and the ledger of a period with the entry lines', async () => {
    const token = await adminToken();
    const auth = { Authorization: `Bearer ${token}` };
    const period = uniquePeriod();
    const customerId = uniqueId('c');
    await accountingActivities(api.database).postEvent(membershipCaptured(customerId, period, 4900, inPeriod(period)));

    const tb = await request(api.app).get(`/admin/accounting/trial-balance?period=${period}`).set(auth).expect(200);
    expect(tb.body).toMatchObject({ period, status: 'open', totalDebitCents: 4900, totalCreditCents: 4900, balanced: true });
    expect(tb.body.accounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ account: 'cash', debitCents: 4900, creditCents: 0 }),
        expect.objectContaining({ account: 'membership_revenue', debitCents: 0, creditCents: 4900 }),
      ]),
    );

    const ledger = await request(api.app).get(`/admin/accounting/ledger?period=${period}&customerId=${customerId}`).set(auth).expect(200);
    expect(ledger.body.entries).toHaveLength(1);
    expect(ledger.body.entries[0]).toMatchObject({
      customerId,
      sequence: 1,
      sourceEventType: 'payment.captured',
      lines: [
        { account: 'cash', debitCents: 4900, creditCents: 0 },
        { account: 'membership_revenue', debitCents: 0, creditCents: 4900 },
      ],
    });

    const bad = await request(api.app).get('/admin/accounting/trial-balance?period=2026-13').set(auth).expect(400);
    expect(bad.body.type).toBe('https://closetflow.dev/problems/validation-error');
  });
});
