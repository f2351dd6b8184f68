import request from 'supertest';
import { createTokenService } from '../../api/auth/tokens';
import { expectNoInternals, signUp, signupBody, startApi, TEST_JWT_SECRET, uniqueEmail, type ApiHarness } from './harness';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

async function customerCount(): Promise<number> {
  const [{ count }] = await api.database.sql<{ count: number }[]>`select count(*)::int as count from auth.customers`;
  return count;
}

describe('signup and login', () => {
  test('a new member signs up, gets a token, and logs in again with the same credentials', async () => {
    const body = signupBody();
    const signup = await request(api.app).post('/v1/auth/signup').send(body).expect(201).expect('Content-Type', /application\/json/);
    expect(signup.body).toEqual({
      customerId: expect.stringMatching(/^c_[0-9a-z]{16}$/),
      role: 'customer',
      tokenType: 'Bearer',
      accessToken: expect.any(String),
      token: signup.body.accessToken,
      expiresIn: 900,
      refreshToken: expect.stringMatching(/^rt_s_/),
    });

    const [row] = await api.database.sql<{ email: string; password_hash: string; role: string; size: string; address: { country: string } }[]>`
      select email, password_hash, role, size, address from auth.customers where id = ${signup.body.customerId}`;
    expect(row).toMatchObject({ email: body.email, role: 'customer', size: 'M', address: { country: 'GB' } });
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(row.password_hash).not.toContain(body.password);

    const login = await request(api.app).post('/v1/auth/login').send({ email: body.email.toUpperCase(), password: body.password }).expect(200);
    expect(login.body).toMatchObject({ customerId: signup.body.customerId, role: 'customer', accessToken: expect.any(String) });

    // Both tokens authenticate the same member.
    for (const token of [signup.body.token, login.body.token]) {
      await request(api.app).get('/v1/orders').set('Authorization', `Bearer ${token}`).expect(200, { data: [], nextCursor: null });
    }
  });

  test('a wrong password and an unknown email get the same 401 answer', async () => {
    const member = await signUp(api.app);
    const wrong = await request(api.app).post('/v1/auth/login').send({ email: member.email, password: 'not the password' }).expect(401);
    const unknown = await request(api.app).post('/v1/auth/login').send({ email: uniqueEmail('nobody'), password: 'not the password' }).expect(401);

    expect(wrong.headers['content-type']).toMatch(/^application\/problem\+json/);
    const strip = ({ requestId: _r, ...rest }: Record<string, unknown>) => rest;
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
    expect(wrong.body).toMatchObject({ type: 'https://closetflow.dev/problems/invalid-credentials', status: 401, instance: '/v1/auth/login' });
    expect(wrong.body.token).toBeUndefined();
  });

  test('signing up twice with the same email (in any case) is 409 email-taken and creates nothing', async () => {
    const member = await signUp(api.app);
    const before = await customerCount();
    const res = await request(api.app)
      .post('/v1/auth/signup')
      .send(signupBody({ email: `  ${member.email.toUpperCase()} ` }))
      .expect(409)
      .expect('Content-Type', /^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/email-taken', title: expect.any(String), status: 409 });
    expect(await customerCount()).toBe(before);
  });

  test('an unknown field (mass assignment of role) is rejected with 400 and nothing is written', async () => {
    const before = await customerCount();
    const body = signupBody({ role: 'admin' });
    const res = await request(api.app).post('/v1/auth/signup').send(body).expect(400);
    expect(res.body).toMatchObject({
      type: 'https://closetflow.dev/problems/validation-error',
      status: 400,
      errors: [expect.objectContaining({ in: 'body', code: 'unrecognized_keys', message: expect.stringContaining('role') })],
    });
    expect(await customerCount()).toBe(before);
    const [{ count }] = await api.database.sql<{ count: number }[]>`select count(*)::int as count from auth.customers where email = ${body.email as string}`;
    expect(count).toBe(0);
  });

  test('unknown fields nested in the address are rejected too', async () => {
    const body = signupBody();
    const res = await request(api.app)
      .post('/v1/auth/signup')
      .send({ ...body, address: { ...(body.address as object), isVerified: true } })
      .expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'address', code: 'unrecognized_keys' })]);
  });

  test('every invalid field is listed in the validation problem', async () => {
    const res = await request(api.app)
      .post('/v1/auth/signup')
      .send(signupBody({ email: 'not-an-email', password: 'short', size: 'XXL', preferredCategories: [], address: { name: 'A', line1: '1', city: 'X', postcode: '1', country: 'GBR' } }))
      .expect(400);
    const paths = (res.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(['address.country', 'email', 'password', 'preferredCategories', 'size']);
    expectNoInternals(res.body);
  });

  test('a body that is not valid JSON is a 400 malformed-json problem', async () => {
    const res = await request(api.app).post('/v1/auth/signup').set('Content-Type', 'application/json').send('{"email": "a@b.c",').expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/malformed-json', status: 400, requestId: expect.any(String) });
    expectNoInternals(res.body);
  });

  test('a body over 100kb is refused with 413', async () => {
    const res = await request(api.app)
      .post('/v1/auth/signup')
      .send(signupBody({ name: 'x'.repeat(110 * 1024) }))
      .expect(413);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/payload-too-large', status: 413 });
  });

  test('a body in another media type is refused with 415', async () => {
    await request(api.app).post('/v1/auth/login').set('Content-Type', 'text/plain').send('email=a&password=b').expect(415);
  });
});

describe('access tokens', () => {
  test('requests without a token are 401 unauthorized with a Bearer challenge', async () => {
    const res = await request(api.app).get('/v1/orders').expect(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/unauthorized', status: 401, instance: '/v1/orders' });
  });

  test('forged, tampered, unsigned and expired tokens are all 401', async () => {
    const member = await signUp(api.app);
    const [header, payload, signature] = member.token.split('.');
    const otherPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'c_someoneelse' })).toString('base64url');
    const unsignedHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const sessionId = JSON.parse(Buffer.from(payload, 'base64url').toString()).sid as string;
    const forged = await createTokenService({ secret: 'another-secret-that-is-long-enough-000000', ttlSeconds: 600 }).sign({ customerId: member.customerId, role: 'customer', sessionId });
    const expired = await createTokenService({ secret: TEST_JWT_SECRET, ttlSeconds: 60, now: () => Date.now() - 3600_000 }).sign({ customerId: member.customerId, role: 'customer', sessionId });
    // Correctly signed, but without a session, or claiming the admin role on a customer session.
    const sessionless = await createTokenService({ secret: TEST_JWT_SECRET, ttlSeconds: 600 }).sign({ customerId: member.customerId, role: 'customer' });
    const promoted = await createTokenService({ secret: TEST_JWT_SECRET, ttlSeconds: 600 }).sign({ customerId: member.customerId, role: 'admin', sessionId });

    for (const token of [`${header}.${otherPayload}.${signature}`, `${unsignedHeader}.${payload}.`, forged, expired, sessionless, promoted, 'garbage']) {
      const res = await request(api.app).get('/v1/orders').set('Authorization', `Bearer ${token}`).expect(401);
      expect(res.body.type).toBe('https://closetflow.dev/problems/unauthorized');
    }
  });
});
