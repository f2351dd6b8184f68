/**
 * Rate limits and login throttles are one budget for the whole deployment, whichever API process
 * a request reaches: two API apps (two processes' worth of state: each its own limiters) over the
 * same database and RATE_LIMIT_NAMESPACE allow exactly the configured budget together, where
 * counters kept in each process would allow it twice.
 */
import request from 'supertest';
import { createApp } from '../../api/app';
import { captureLogger, signUp, startApi, testConfig, type ApiHarness } from './harness';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

/** Two API processes of one deployment: the same settings, the same namespace, their own limiters. */
function twoReplicas(overrides: Record<string, string>) {
  const namespace = `shared-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const replica = () =>
    createApp({
      config: testConfig({ ...overrides, RATE_LIMIT_NAMESPACE: namespace }),
      database: api.database,
      temporal: api.env.client,
      logger: captureLogger([]),
    });
  return [replica(), replica()] as const;
}

describe('limits shared by every API process', () => {
  test('two replicas together let exactly RATE_LIMIT_PER_IP requests of one client through per window', async () => {
    const [a, b] = twoReplicas({ RATE_LIMIT_PER_IP: '10', RATE_LIMIT_WINDOW_SECONDS: '60', TRUST_PROXY: 'loopback' });
    const statuses: number[] = [];
    // Alternating, as a load balancer would spread them, and some at once.
    for (let i = 0; i < 8; i++) {
      const pair = await Promise.all([a, b].map((app) => request(app).get('/openapi.json').set('X-Forwarded-For', '198.51.100.7')));
      statuses.push(...pair.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    // Another client has its own budget on either replica.
    await request(b).get('/openapi.json').set('X-Forwarded-For', '198.51.100.8').expect(200);
  });

  test('two replicas together let exactly RATE_LIMIT_PER_CUSTOMER requests of one member through', async () => {
    const [a, b] = twoReplicas({ RATE_LIMIT_PER_CUSTOMER: '4', RATE_LIMIT_PER_IP: '1000' });
    const member = await signUp(a);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) for (const app of [a, b]) statuses.push((await request(app).get('/v1/orders').set(member.auth)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
  });

  test('failed logins count once across replicas: the lockout holds on the replica the guesser moves to', async () => {
    const [a, b] = twoReplicas({ LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP: '3', LOGIN_MAX_FAILURES_PER_IP: '100', TRUST_PROXY: 'loopback' });
    const member = await signUp(a);
    const attempt = (app: typeof a) =>
      request(app).post('/v1/auth/login').set('X-Forwarded-For', '198.51.100.9').send({ email: member.email, password: 'wrong password guess' });
    expect((await attempt(a)).status).toBe(401);
    expect((await attempt(b)).status).toBe(401);
    expect((await attempt(a)).status).toBe(401);
    const locked = await attempt(b);
    expect(locked.status).toBe(429);
    expect(locked.body.type).toBe('https://closetflow.dev/problems/too-many-login-attempts');
    // Even the right password waits out the lockout, on either replica.
    const right = await request(a)
      .post('/v1/auth/login')
      .set('X-Forwarded-For', '198.51.100.9')
      .send({ email: member.email, password: 'correct horse battery' });
    expect(right.status).toBe(429);
  });

  test('another deployment (another namespace) on the same database has a budget of its own', async () => {
    const [a] = twoReplicas({ RATE_LIMIT_PER_IP: '1', TRUST_PROXY: 'loopback' });
    const [other] = twoReplicas({ RATE_LIMIT_PER_IP: '1', TRUST_PROXY: 'loopback' });
    await request(a).get('/openapi.json').set('X-Forwarded-For', '198.51.100.10').expect(200);
    await request(a).get('/openapi.json').set('X-Forwarded-For', '198.51.100.10').expect(429);
    await request(other).get('/openapi.json').set('X-Forwarded-For', '198.51.100.10').expect(200);
  });
});
