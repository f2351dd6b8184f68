/** Health check, request ids, the access log, error bodies, and the JWT secret file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../../api/app';
import { loadOrCreateJwtSecret } from '../../api/auth/secret';
import { connectDatabase } from '../../db/client';
import { captureLogger, expectNoInternals, signupBody, startApi, testConfig, type ApiHarness, type LogLine } from './harness';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

describe('GET /healthz', () => {
  test('is 200 with every check ok when PostgreSQL and Temporal answer', async () => {
    await request(api.app)
      .get('/healthz')
      .expect(200, { status: 'ok', checks: { database: 'ok', temporal: 'ok' } });
  });

  test('is 503 and names the failing check when the database is unreachable', async () => {
    // A real pool pointed at a port nothing listens on.
    const unreachable = connectDatabase('postgres://nobody:nothing@127.0.0.1:1/none', { max: 1 });
    try {
      const app = createApp({ config: testConfig(), database: unreachable, temporal: api.env.client, logger: captureLogger([]) });
      await request(app)
        .get('/healthz')
        .expect(503, { status: 'unavailable', checks: { database: 'failing', temporal: 'ok' } });
    } finally {
      await unreachable.close();
    }
  });
});

describe('request ids and the access log', () => {
  test('a sane incoming X-Request-Id is echoed in the header, the problem body and the log line', async () => {
    const res = await request(api.app).get('/v1/orders').set('X-Request-Id', 'req-abc.123').expect(401);
    expect(res.headers['x-request-id']).toBe('req-abc.123');
    expect(res.body.requestId).toBe('req-abc.123');
    const lines = api.logs.filter((l) => l.requestId === 'req-abc.123' && l.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ domain: 'api', method: 'GET', path: '/v1/orders', status: 401, durationMs: expect.any(Number) });
  });

  test('an insane incoming id is replaced by a generated one', async () => {
    const res = await request(api.app).get('/healthz').set('X-Request-Id', 'x'.repeat(300)).expect(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const res2 = await request(api.app).get('/healthz').set('X-Request-Id', '{"level":60}').expect(200);
    expect(res2.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('the access log never carries the query string', async () => {
    const res = await request(api.app).get('/healthz?token=secret-value').expect(200);
    const line = api.logs.find((l: LogLine) => l.requestId === res.headers['x-request-id'] && l.msg === 'request');
    expect(line).toMatchObject({ path: '/healthz', status: 200 });
    expect(JSON.stringify(line)).not.toContain('secret-value');
  });

  test('responses carry security headers and no X-Powered-By', async () => {
    const res = await request(api.app).get('/healthz').expect(200);
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('error responses', () => {
  test('an unknown route is a 404 problem', async () => {
    const res = await request(api.app).get('/v1/nothing-here').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/not-found', title: 'Not found', status: 404, instance: '/v1/nothing-here' });
  });

  test('an unexpected failure is a generic 500 with a request id and no stack or internals', async () => {
    // A real database pool that has been closed: every query fails inside the route.
    const closed = connectDatabase(process.env.DATABASE_URL!, { max: 1 });
    await closed.close();
    const logs: LogLine[] = [];
    const app = createApp({ config: testConfig(), database: closed, temporal: api.env.client, logger: captureLogger(logs) });

    const res = await request(app).post('/v1/auth/signup').send(signupBody()).expect(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'https://closetflow.dev/problems/internal',
      title: 'Internal server error',
      status: 500,
      detail: expect.any(String),
      instance: '/v1/auth/signup',
      requestId: expect.any(String),
    });
    expectNoInternals(res.body);
    expect(res.body.detail).not.toMatch(/CONNECTION|postgres|ended/i);
    // The details are in the log instead, under the same request id.
    const logged = logs.find((l) => l.requestId === res.body.requestId && l.msg === 'unexpected error');
    expect(logged?.err).toEqual(expect.objectContaining({ stack: expect.any(String) }));
  });

  test('client errors never include stack traces either', async () => {
    const responses = await Promise.all([
      request(api.app).post('/v1/auth/login').set('Content-Type', 'application/json').send('{'),
      request(api.app).post('/v1/auth/login').send({ email: 1 }),
      request(api.app).get('/v1/orders/%E0%A4%A').set('Authorization', 'Bearer x'),
      request(api.app).get('/v1/orders').set('Authorization', 'Basic abc'),
    ]);
    for (const res of responses) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expectNoInternals(res.body);
    }
  });
});

describe('JWT secret file', () => {
  test('is created once with mode 0600 and reused on restart', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closetflow-jwt-'));
    try {
      const dataDir = path.join(dir, 'data');
      const first = loadOrCreateJwtSecret(dataDir);
      expect(first.length).toBeGreaterThanOrEqual(32);
      expect(fs.statSync(path.join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
      expect(loadOrCreateJwtSecret(dataDir)).toBe(first);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
