/** Refresh-token rotation, logout, login throttling and the password policy. */
import request from 'supertest';
import { createApp } from '../../api/app';
import { captureLogger, signUp, signupBody, startApi, testConfig, type ApiHarness } from './harness';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

const refresh = (refreshToken: string) => request(api.app).post('/v1/auth/refresh').send({ refreshToken });

describe('refresh tokens', () => {
  test('a refresh answers a new pair; the spent refresh token is refused, and reusing it revokes the session', async () => {
    const signup = await request(api.app).post('/v1/auth/signup').send(signupBody()).expect(201);
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

  test('after the allowed failures for one account, login is 429 with Retry-After, even with the right password', async () => {
    const app = throttledApp({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '100' });
    const member = await signUp(app);
    for (let i = 0; i < 3; i++) await request(app).post('/v1/auth/login').send({ email: member.email, password: 'wrong password!' }).expect(401);
    const locked = await request(app).post('/v1/auth/login').send({ email: member.email, password: 'correct horse battery' }).expect(429);
    expect(locked.body.type).toBe('https://closetflow.dev/problems/too-many-login-attempts');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // Another account from the same address is unaffected.
    const other = await signUp(app);
    await request(app).post('/v1/auth/login').send({ email: other.email, password: 'correct horse battery' }).expect(200);
  });

  test('after the allowed failures from one IP (across accounts), that IP is 429', async () => {
    const app = throttledApp({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '100', LOGIN_MAX_FAILURES_PER_IP: '3' });
    const member = await signUp(app);
    for (let i = 0; i < 3; i++) await request(app).post('/v1/auth/login').send({ email: `nobody-${i}@example.test`, password: 'guess guess guess' }).expect(401);
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
    const signup = await request(api.app).post('/v1/auth/signup').send(signupBody()).expect(201);
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
