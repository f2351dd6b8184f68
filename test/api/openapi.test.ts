/** The OpenAPI document against the routes Express really serves, and the /docs page. */
import type { Express } from 'express';
import request from 'supertest';
import { openApiPath } from '../../api/openapi/document';
import { PROBLEMS, problemUri, type ProblemType } from '../../api/problems';
import { startApi, type ApiHarness } from './harness';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

interface RouterLayer {
  rawPath?: string | RegExp;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

/** Every `METHOD /path` the app routes, walking mounted routers (Express 5 / router 2 layers keep rawPath). */
function expressRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: RouterLayer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== '_all') found.push(`${method.toUpperCase()} ${(prefix + layer.route.path).replace(/\/$/, '') || '/'}`);
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: RouterLayer[] } }).router.stack, '');
  return [...new Set(found)].sort();
}

describe('GET /openapi.json', () => {
  test('is an OpenAPI 3.1 document listing exactly the routes Express serves', async () => {
    const res = await request(api.app)
      .get('/openapi.json')
      .expect(200)
      .expect('Content-Type', /application\/json/);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const served = expressRoutes(api.app).map((r) => {
      const [method, path] = r.split(' ');
      return `${method} ${openApiPath(path)}`;
    });
    expect(served.length).toBeGreaterThan(10);
    expect(documented).toEqual(served);
  });

  test('lists every problem type with its status, and documents the API headers', async () => {
    const doc = (await request(api.app).get('/openapi.json').expect(200)).body;
    expect(doc['x-problem-types']).toEqual(
      Object.entries(PROBLEMS).map(([t, d]) => ({ type: problemUri(t as ProblemType), status: d.status, title: d.title })),
    );
    expect(Object.keys(doc.components.headers)).toEqual(
      expect.arrayContaining(['X-Request-Id', 'Retry-After', 'Idempotent-Replayed', 'RateLimit', 'Location', 'WWW-Authenticate']),
    );
    expect(doc.components.parameters.IdempotencyKey).toMatchObject({ name: 'Idempotency-Key', in: 'header' });
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    // The request schemas are the routes' own zod schemas: strict bodies show as closed objects.
    const signup = doc.paths['/v1/auth/signup'].post.requestBody.content['application/json'].schema;
    expect(signup).toMatchObject({ type: 'object', additionalProperties: false, required: expect.arrayContaining(['email', 'password']) });
    expect(doc.paths['/v1/orders'].post.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    expect(doc.paths['/v1/orders/{orderId}/items/{itemId}/purchase'].post.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    expect(doc.paths['/v1/orders'].get.responses['429'].headers).toHaveProperty('Retry-After');
  });
});

describe('GET /docs', () => {
  test('is a self-contained HTML page whose CSP allows only its own inline script and this origin', async () => {
    const res = await request(api.app)
      .get('/docs')
      .expect(200)
      .expect('Content-Type', /text\/html/);
    expect(res.text).toContain('/openapi.json');
    expect(res.text).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!closetflow\.dev)[a-z]/i);
    const csp = res.headers['content-security-policy'];
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });
});
