/** Refresh-token rotation, logout, login throttling and the password policy. */
import request from 'supertest';
import { createApp } from '../../api/app';
import { captureLogger, signUp, signupBody, startApi, testConfig, verificationToken, type ApiHarness } from './harness';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

const refresh = (refreshToken: string) => request(api.app).post('/v1/auth/refresh').send({ refreshToken });

/** Signup and verify; the verify answer (access and refresh token). */
async function signUpWithTokens() {
  const body = signupBody();
  await request(api.app).post('/v1/auth/signup').send(body).expect(202);
  return request(api.app)
    .post('/v1/auth/verify')
    .send({ token: await verificationToken(body.email as string) })
    .expect(201);
}

describe('refresh tokens', () => {
  test('a refresh answers a new pair; the spent refresh token is refused, and reusing it revokes the session', async () => {
    const signup = await signUpWithTokens();
    const first = signup.body.refreshToken as string;
    const rotated = await refresh(first).expect(200);
    expect(rotated.body).toMatchObject({ customerId: signup.body.customerId, role: 'customer', tokenType: 'Bearer', expiresIn: 900 });
    expect(rotated.body.refreshToken).not.toBe(first);
    await request(api.app).get('/v1/orders').set('Authorization', `Bearer ${rotated.body.accessToken}`).expect(200);

    // The old token again: someone copied it. The whole session ends, including the new tokens.
    const reused = await refresh(first).expect(401);
    expect(reused.body.type).toBe('https://closetflow.dev/problems/invalid-refresh-token');
    await refresh(rotated.body.refreshToken).expect(401);
    await request(api.app).get('/v1/orders').set('Authorization', `Bearer ${rotated.body.accessToken}`).expect(401);
    const [row] = await api.database.sql<{ revoked_reason: string }[]>`select revoked_reason from auth.sessions where customer_id = ${signup.body.customerId}`;
    expect(row.revoked_reason).toBe('refresh token reused');
  });

  test('garbage, unknown and unknown-field refresh requests are refused', async () => {
    await refresh('nope').expect(401);
    await refresh(`rt_s_${'A'.repeat(22)}.${'B'.repeat(43)}`).expect(401);
    await request(api.app).post('/v1/auth/refresh').send({ refreshToken: 'x', customerId: 'c_x' }).expect(400);
  });
});

describe('logout', () => {
  test('revokes the session: its access token and refresh token stop working at once; other sessions live on', async () => {
    const member = await signUp(api.app);
    const other = await request(api.app).post('/v1/auth/login').send({ email: member.email, password: 'correct horse battery' }).expect(200);
    await request(api.app).post('/v1/auth/logout').set(member.auth).expect(204);
    await request(api.app).get('/v1/orders').set(member.auth).expect(401);
    await request(api.app).post('/v1/auth/logout').set(member.auth).expect(401);
    await request(api.app).get('/v1/orders').set('Authorization', `Bearer ${other.body.accessToken}`).expect(200);
  });
});

describe('brute-force protection', () => {
  function throttledApp(overrides: Record<string, string>) {
    return createApp({ config: testConfig(overrides), database: api.database, temporal: api.env.client, logger: captureLogger([]) });
  }

  // Behind a trusted proxy (loopback: supertest), the client IP is the X-Forwarded-For one.
  const loginFrom = (app: ReturnType<typeof throttledApp>, ip: string, body: { email: string; password: string }) =>
    request(app).post('/v1/auth/login').set('X-Forwarded-For', ip).send(body);
  const ATTACKER = '203.0.113.66';
  const VICTIM = '198.51.100.7';

  test("an attacker failing with a member's email locks out only themselves: the member still logs in from elsewhere", async () => {
    const app = throttledApp({ LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP: '3', LOGIN_MAX_FAILURES_PER_IP: '100', TRUST_PROXY: 'loopback' });
    const victim = await signUp(app);
    for (let i = 0; i < 3; i++) await loginFrom(app, ATTACKER, { email: victim.email, password: 'wrong password!' }).expect(401);

    // The attacker's address and this account: 429 with Retry-After, even with the right password.
    const locked = await loginFrom(app, ATTACKER, { email: victim.email, password: 'correct horse battery' }).expect(429);
    expect(locked.body.type).toBe('https://closetflow.dev/problems/too-many-login-attempts');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);

    // The member, from their own address, is not locked out.
    const own = await loginFrom(app, VICTIM, { email: victim.email, password: 'correct horse battery' }).expect(200);
    expect(own.body.customerId).toBe(victim.customerId);
    // And another account from the attacker's address is unaffected by this pair's failures.
    const other = await signUp(app);
    await loginFrom(app, ATTACKER, { email: other.email, password: 'correct horse battery' }).expect(200);
  });

  test('LOGIN_MAX_FAILURES_PER_ACCOUNT, the former name, still sets the per account-and-IP limit', () => {
    expect(testConfig({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '7' }).LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP).toBe(7);
    expect(testConfig({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '7', LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP: '4' }).LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP).toBe(4);
    expect(testConfig().LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP).toBe(5);
  });

  test('after the allowed failures from one IP (across accounts), that IP is 429', async () => {
    const app = throttledApp({ LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP: '100', LOGIN_MAX_FAILURES_PER_IP: '3' });
    const member = await signUp(app);
    for (let i = 0; i < 3; i++)
      await request(app)
        .post('/v1/auth/login')
        .send({ email: `nobody-${i}@example.test`, password: 'guess guess guess' })
        .expect(401);
    await request(app).post('/v1/auth/login').send({ email: member.email, password: 'correct horse battery' }).expect(429);
  });
});

describe('password policy', () => {
  test.each([
    ['too short', 'short pass'],
    ['a common password', 'password1234'],
    ['too few different characters', 'aaaaaaaaaaaabbbb'],
  ])('refuses a password that is %s', async (_why, password) => {
    const res = await request(api.app).post('/v1/auth/signup').send(signupBody({ password })).expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'password' })]);
  });

  test('refuses a password containing the email address', async () => {
    const body = signupBody();
    const res = await request(api.app)
      .post('/v1/auth/signup')
      .send({ ...body, password: `my ${String(body.email).split('@')[0]} pw` })
      .expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'password', message: expect.stringContaining('email') })]);
  });
});

describe('role binding', () => {
  test("changing an account's role ends its sessions: the old tokens and refresh token stop working", async () => {
    const signup = await signUpWithTokens();
    const auth = { Authorization: `Bearer ${signup.body.accessToken}` };
    await request(api.app).get('/v1/orders').set(auth).expect(200);
    await api.database.sql`update auth.customers set role = 'admin' where id = ${signup.body.customerId}`;
    // A customer-role token of an account that is now admin is not silently upgraded, nor kept.
    await request(api.app).get('/v1/orders').set(auth).expect(401);
    await request(api.app).get('/admin/accounting/trial-balance?period=2026-01').set(auth).expect(401);
    await refresh(signup.body.refreshToken).expect(401);
    const [row] = await api.database.sql<{ revoked_reason: string }[]>`select revoked_reason from auth.sessions where customer_id = ${signup.body.customerId}`;
    expect(row.revoked_reason).toBe('role changed');
  });
});
