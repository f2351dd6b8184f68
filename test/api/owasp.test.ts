/**
 * OWASP API Security Top 10 rules: object-level authorization on every route with an :orderId
 * (taken from the OpenAPI document, so a new route cannot be forgotten), rate limits per IP and
 * per member, the CORS policy, `trust proxy`, and security headers.
 */
import request from 'supertest';
import { upsertOrder } from '../../store/orders/orders';
import { createApp } from '../../api/app';
import { captureLogger, signUp, startApi, testConfig, type ApiHarness } from './harness';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

function appWith(overrides: Record<string, string>) {
  return createApp({ config: testConfig(overrides), database: api.database, temporal: api.env.client, logger: captureLogger([]) });
}

describe('object-level authorization', () => {
  test("every member route with an {orderId} answers 404 for another member's order, exactly as for an unknown one, and writes nothing", async () => {
    const [owner, intruder] = [await signUp(api.app), await signUp(api.app)];
    const orderId = `o_bola${Date.now().toString(36)}`;
    await upsertOrder(api.database.db, {
      order: {
        orderId,
        customerId: owner.customerId,
        size: 'M',
        categories: ['dress'],
        itemCount: 1,
        address: { name: 'A', line1: '1', city: 'T', postcode: '1', country: 'GB' },
      },
      status: 'delivered',
    });
    const before = await api.database.sql`select status, updated_at from orders.orders where id = ${orderId}`;

    const doc = (await request(api.app).get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, { 'x-required-role'?: string }>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op['x-required-role'] === 'customer' && path.includes('{orderId}'))
        .map(([method]) => ({ method, path })),
    );
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'get /v1/orders/{orderId}',
      'get /v1/orders/{orderId}/timeline',
      'post /v1/orders/{orderId}/cancel',
      'post /v1/orders/{orderId}/items/{itemId}/purchase',
      'post /v1/orders/{orderId}/return',
    ]);
    for (const { method, path } of routes) {
      for (const id of [orderId, 'o_doesnotexist0000']) {
        const url = path.replace('{orderId}', id).replace('{itemId}', 'item_1');
        const res = await (method === 'get' ? request(api.app).get(url) : request(api.app).post(url).send({})).set(intruder.auth);
        expect({ route: `${method} ${path}`, status: res.status, type: res.body.type }).toEqual({
          route: `${method} ${path}`,
          status: 404,
          type: 'https://closetflow.dev/problems/not-found',
        });
      }
    }
    // The owner still sees it, unchanged.
    await request(api.app).get(`/v1/orders/${orderId}`).set(owner.auth).expect(200);
    expect(await api.database.sql`select status, updated_at from orders.orders where id = ${orderId}`).toEqual(before);
  });

  test('a customer token is 403 on admin routes', async () => {
    const member = await signUp(api.app);
    const res = await request(api.app).get('/admin/accounting/trial-balance?period=2026-01').set(member.auth).expect(403);
    expect(res.body.type).toBe('https://closetflow.dev/problems/forbidden');
  });
});

describe('mass assignment', () => {
  test('privileged or unknown fields in order and payment bodies are refused with 400', async () => {
    const member = await signUp(api.app);
    const order = await request(api.app).post('/v1/orders').set(member.auth).send({ itemCount: 1, customerId: 'c_other', status: 'delivered' }).expect(400);
    expect(order.body.errors).toEqual([expect.objectContaining({ code: 'unrecognized_keys' })]);
    await request(api.app)
      .put('/v1/me/payment-method')
      .set(member.auth)
      .send({ card: { token: 'tok_visa' }, customerId: 'c_other' })
      .expect(400);
    const [{ count }] = await api.database.sql<{ count: number }[]>`select count(*)::int as count from orders.orders where customer_id = ${member.customerId}`;
    expect(count).toBe(0);
  });
});

describe('rate limits', () => {
  test('per IP: over the limit is 429 rate-limited with Retry-After and RateLimit headers', async () => {
    const app = appWith({ RATE_LIMIT_PER_IP: '3', RATE_LIMIT_WINDOW_SECONDS: '60' });
    for (let i = 0; i < 3; i++) {
      const ok = await request(app).get('/openapi.json').expect(200);
      expect(ok.headers['ratelimit-policy']).toBe('3;w=60');
    }
    const res = await request(app).get('/v1/orders').expect(429);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe('https://closetflow.dev/problems/rate-limited');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    // The health check is never limited (load balancers poll it).
    await request(app).get('/healthz').expect(200);
  });

  test('per member: one member over the limit is 429 while another member goes on', async () => {
    const app = appWith({ RATE_LIMIT_PER_CUSTOMER: '2', RATE_LIMIT_PER_IP: '1000' });
    const [a, b] = [await signUp(app), await signUp(app)];
    await request(app).get('/v1/orders').set(a.auth).expect(200);
    await request(app).get('/v1/orders').set(a.auth).expect(200);
    const limited = await request(app).get('/v1/orders').set(a.auth).expect(429);
    expect(limited.headers['retry-after']).toBeDefined();
    await request(app).get('/v1/orders').set(b.auth).expect(200);
  });

  test('behind a trusted proxy the client IP comes from X-Forwarded-For; without one the header is ignored', async () => {
    const proxied = appWith({ RATE_LIMIT_PER_IP: '1', TRUST_PROXY: 'loopback' });
    await request(proxied).get('/openapi.json').set('X-Forwarded-For', '203.0.113.1').expect(200);
    await request(proxied).get('/openapi.json').set('X-Forwarded-For', '203.0.113.2').expect(200);
    await request(proxied).get('/openapi.json').set('X-Forwarded-For', '203.0.113.1').expect(429);

    const direct = appWith({ RATE_LIMIT_PER_IP: '1' });
    await request(direct).get('/openapi.json').set('X-Forwarded-For', '203.0.113.1').expect(200);
    // A spoofed header does not buy a fresh budget.
    await request(direct).get('/openapi.json').set('X-Forwarded-For', '203.0.113.2').expect(429);
  });
});

describe('CORS', () => {
  const app = () => appWith({ CORS_ALLOWED_ORIGINS: 'https://app.closetflow.test' });

  test('an allowed origin gets its preflight answered and the headers it may read exposed', async () => {
    const pre = await request(app())
      .options('/v1/orders')
      .set('Origin', 'https://app.closetflow.test')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, idempotency-key')
      .expect(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.closetflow.test');
    expect(pre.headers['access-control-allow-headers']).toMatch(/Idempotency-Key/);
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    const res = await request(app()).get('/healthz').set('Origin', 'https://app.closetflow.test').expect(200);
    expect(res.headers['access-control-expose-headers']).toMatch(/X-Request-Id/);
  });

  test('any other origin gets no CORS headers at all', async () => {
    const pre = await request(app()).options('/v1/orders').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST').expect(204);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const res = await request(api.app).get('/healthz').set('Origin', 'https://app.closetflow.test').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('security headers', () => {
  test('helmet headers on API responses, HSTS included, and no X-Powered-By', async () => {
    const res = await request(api.app).get('/v1/orders').expect(401);
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
