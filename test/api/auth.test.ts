import request from 'supertest';
import { hashVerificationToken } from '../../api/auth/signup-requests';
import { createTokenService } from '../../api/auth/tokens';
import { readVerificationToken } from '../../scripts/member-signup';
import type { MailMessageList } from '../../simulators/mail/contract';
import { eventually } from '../support/system';
import { expectNoInternals, signUp, signupBody, startApi, TEST_JWT_SECRET, testMailUrl, uniqueEmail, verificationToken, type ApiHarness } from './harness';

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

/** The mail simulator's inbox of one address, newest first. */
async function inbox(email: string): Promise<MailMessageList['messages']> {
  const res = await fetch(`${testMailUrl()}/admin/messages?to=${encodeURIComponent(email)}`);
  return ((await res.json()) as MailMessageList).messages;
}

describe('signup and login', () => {
  test('a new member signs up, verifies the address with the e-mailed token, is logged in, and logs in again with the same credentials', async () => {
    const body = signupBody();
    const before = await customerCount();
    const signup = await request(api.app)
      .post('/v1/auth/signup')
      .send(body)
      .expect(202)
      .expect('Content-Type', /application\/json/);
    expect(signup.body).toEqual({ status: 'verification-sent', email: body.email, expiresIn: 24 * 3600, detail: expect.any(String) });
    // Nothing exists until the address is verified.
    expect(await customerCount()).toBe(before);

    const token = await verificationToken(body.email as string);
    const [mail] = await inbox(body.email as string);
    expect(mail).toMatchObject({ subject: expect.stringMatching(/confirm/i), tag: 'verify-email' });
    expect(mail.text).not.toContain(body.name as string);
    // The database keeps only the token's hash, and the sent e-mail's body is scrubbed.
    const [pending] = await api.database.sql<
      { token_hash: string; password_hash: string }[]
    >`select token_hash, password_hash from auth.signup_requests where email = ${body.email as string}`;
    expect(pending.token_hash).toBe(hashVerificationToken(token));
    expect(pending.password_hash).toMatch(/^scrypt\$/);
    await eventually(
      async () => {
        const [row] = await api.database.sql<
          { body: string | null; sent_at: Date | null }[]
        >`select body, sent_at from auth.mail_outbox where recipient = ${body.email as string}`;
        return row?.sent_at && row.body === null ? true : undefined;
      },
      10_000,
      'the sent e-mail scrubbed',
    );

    const verified = await request(api.app)
      .post('/v1/auth/verify')
      .send({ token })
      .expect(201)
      .expect('Content-Type', /application\/json/);
    expect(verified.body).toEqual({
      customerId: expect.stringMatching(/^c_[0-9a-z]{16}$/),
      role: 'customer',
      tokenType: 'Bearer',
      accessToken: expect.any(String),
      token: verified.body.accessToken,
      expiresIn: 900,
      refreshToken: expect.stringMatching(/^rt_s_/),
    });

    const [row] = await api.database.sql<{ email: string; password_hash: string; role: string; size: string; address: { country: string } }[]>`
      select email, password_hash, role, size, address from auth.customers where id = ${verified.body.customerId}`;
    expect(row).toMatchObject({ email: body.email, role: 'customer', size: 'M', address: { country: 'GB' } });
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(row.password_hash).not.toContain(body.password);

    const login = await request(api.app).post('/v1/auth/login').send({ email: body.email.toUpperCase(), password: body.password }).expect(200);
    expect(login.body).toMatchObject({ customerId: verified.body.customerId, role: 'customer', accessToken: expect.any(String) });

    // Both tokens authenticate the same member.
    for (const accessToken of [verified.body.token, login.body.token]) {
      await request(api.app).get('/v1/orders').set('Authorization', `Bearer ${accessToken}`).expect(200, { data: [], nextCursor: null });
    }
  });

  test('answers a registered e-mail exactly as a new one, creates nothing, and e-mails the member that someone tried', async () => {
    const member = await signUp(api.app);
    // An address of the same length, so even Content-Length cannot tell the two apart.
    const fresh = member.email.replace(/^member/, 'nobody');
    expect(fresh).toHaveLength(member.email.length);
    const before = await customerCount();

    const registered = await request(api.app)
      .post('/v1/auth/signup')
      .send(signupBody({ email: `  ${member.email.toUpperCase()} `, password: 'another good passphrase' }));
    const unregistered = await request(api.app)
      .post('/v1/auth/signup')
      .send(signupBody({ email: fresh, password: 'another good passphrase' }));

    expect(registered.status).toBe(202);
    expect(unregistered.status).toBe(registered.status);
    expect({ ...registered.body, email: '<email>' }).toEqual({ ...unregistered.body, email: '<email>' });
    expect(registered.body.email).toBe(member.email);
    // Every header but the per-request ones is the same, values included.
    const perRequest = new Set(['x-request-id', 'date', 'ratelimit']);
    const stable = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).filter(([name]) => !perRequest.has(name)));
    expect(stable(registered.headers)).toEqual(stable(unregistered.headers));

    // The registered address is told, without a token; the new one gets its token.
    const notice = await eventually(async () => (await inbox(member.email)).find((m) => m.tag === 'signup-attempt'), 10_000, 'the signup-attempt e-mail');
    expect(notice.subject).toMatch(/someone tried to sign up/i);
    expect(notice.text).not.toMatch(/vt_/);
    await verificationToken(fresh);
    expect(await customerCount()).toBe(before);
    const [{ count }] = await api.database.sql<{ count: number }[]>`select count(*)::int as count from auth.signup_requests where email = ${member.email}`;
    expect(count).toBe(1);
  });

  test('a verification token works once; an unknown one is 400, a spent or expired one 410', async () => {
    const body = signupBody();
    await request(api.app).post('/v1/auth/signup').send(body).expect(202);
    const token = await verificationToken(body.email as string);
    await request(api.app).post('/v1/auth/verify').send({ token }).expect(201);

    const spent = await request(api.app)
      .post('/v1/auth/verify')
      .send({ token })
      .expect(410)
      .expect('Content-Type', /^application\/problem\+json/);
    expect(spent.body).toMatchObject({ type: 'https://closetflow.dev/problems/verification-token-expired', status: 410 });
    for (const unknown of [`vt_${'A'.repeat(43)}`, 'not-a-token']) {
      const res = await request(api.app).post('/v1/auth/verify').send({ token: unknown }).expect(400);
      expect(res.body).toMatchObject({ type: 'https://closetflow.dev/problems/invalid-verification-token', status: 400 });
    }

    const late = signupBody();
    await request(api.app).post('/v1/auth/signup').send(late).expect(202);
    const lateToken = await verificationToken(late.email as string);
    await api.database.sql`update auth.signup_requests set expires_at = now() - interval '1 second' where email = ${late.email as string}`;
    const expired = await request(api.app).post('/v1/auth/verify').send({ token: lateToken }).expect(410);
    expect(expired.body.type).toBe('https://closetflow.dev/problems/verification-token-expired');
    const [{ count }] = await api.database.sql<{ count: number }[]>`select count(*)::int as count from auth.customers where email = ${late.email as string}`;
    expect(count).toBe(0);
  });

  test('two signups of one new address: the token verified first makes the member, the other is then 409 email-taken', async () => {
    const body = signupBody();
    await request(api.app).post('/v1/auth/signup').send(body).expect(202);
    const first = await verificationToken(body.email as string);
    await request(api.app).post('/v1/auth/signup').send(body).expect(202);
    const second = await readVerificationToken({ mailUrl: testMailUrl(), email: body.email as string, notToken: first });
    await request(api.app).post('/v1/auth/verify').send({ token: second }).expect(201);
    const res = await request(api.app).post('/v1/auth/verify').send({ token: first }).expect(409);
    expect(res.body.type).toBe('https://closetflow.dev/problems/email-taken');
  });

  test('e-mails one address at most SIGNUP_MAILS_PER_ADDRESS times a window, answering every signup alike', async () => {
    const body = signupBody();
    const max = api.config.SIGNUP_MAILS_PER_ADDRESS;
    const answers = [];
    for (let i = 0; i < max + 2; i++) answers.push(await request(api.app).post('/v1/auth/signup').send(body).expect(202));
    for (const a of answers) expect(a.body).toEqual(answers[0]!.body);
    // Counted where the e-mails are made: the outbox rows for the address, one per e-mail sent.
    const queued = async (email: string) =>
      (await api.database.sql<{ count: number }[]>`select count(*)::int as count from auth.mail_outbox where recipient = ${email}`)[0]!.count;
    expect(await queued(body.email as string)).toBe(max);
    await eventually(async () => ((await inbox(body.email as string)).length === max ? true : undefined), 10_000, `${max} e-mails delivered`);
    // Another address is not held by this one's budget.
    const other = signupBody();
    await request(api.app).post('/v1/auth/signup').send(other).expect(202);
    expect(await queued(other.email as string)).toBe(1);
  });

  test('a wrong password and an unknown email get the same 401 answer', async () => {
    const member = await signUp(api.app);
    const wrong = await request(api.app).post('/v1/auth/login').send({ email: member.email, password: 'not the password' }).expect(401);
    const unknown = await request(api.app)
      .post('/v1/auth/login')
      .send({ email: uniqueEmail('nobody'), password: 'not the password' })
      .expect(401);

    expect(wrong.headers['content-type']).toMatch(/^application\/problem\+json/);
    const strip = ({ requestId: _r, ...rest }: Record<string, unknown>) => rest;
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
    expect(wrong.body).toMatchObject({ type: 'https://closetflow.dev/problems/invalid-credentials', status: 401, instance: '/v1/auth/login' });
    expect(wrong.body.token).toBeUndefined();
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
    const [{ count }] = await api.database.sql<
      { count: number }[]
    >`select count(*)::int as count from auth.signup_requests where email = ${body.email as string}`;
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
      .send(
        signupBody({
          email: 'not-an-email',
          password: 'short',
          size: 'XXL',
          preferredCategories: [],
          address: { name: 'A', line1: '1', city: 'X', postcode: '1', country: 'GBR' },
        }),
      )
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
    const otherPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'c_someoneelse' })).toString(
      'base64url',
    );
    const unsignedHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const sessionId = JSON.parse(Buffer.from(payload, 'base64url').toString()).sid as string;
    const forged = await createTokenService({ secret: 'another-secret-that-is-long-enough-000000', ttlSeconds: 600 }).sign({
      customerId: member.customerId,
      role: 'customer',
      sessionId,
    });
    const expired = await createTokenService({ secret: TEST_JWT_SECRET, ttlSeconds: 60, now: () => Date.now() - 3600_000 }).sign({
      customerId: member.customerId,
      role: 'customer',
      sessionId,
    });
    // Correctly signed, but without a session, or claiming the admin role on a customer session.
    const sessionless = await createTokenService({ secret: TEST_JWT_SECRET, ttlSeconds: 600 }).sign({ customerId: member.customerId, role: 'customer' });
    const promoted = await createTokenService({ secret: TEST_JWT_SECRET, ttlSeconds: 600 }).sign({ customerId: member.customerId, role: 'admin', sessionId });

    for (const token of [`${header}.${otherPayload}.${signature}`, `${unsignedHeader}.${payload}.`, forged, expired, sessionless, promoted, 'garbage']) {
      const res = await request(api.app).get('/v1/orders').set('Authorization', `Bearer ${token}`).expect(401);
      expect(res.body.type).toBe('https://closetflow.dev/problems/unauthorized');
    }
  });
});
