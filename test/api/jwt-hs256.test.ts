/**
 * The hot-path verifier (api/auth/jwt-hs256.ts) against jose's jwtVerify with the options the
 * API used before: over the same tokens — valid, tampered, algorithm-confused, expired, wrongly
 * addressed, malformed — it accepts exactly the tokens jose accepts (and returns the same claims),
 * except a few that it refuses and jose would accept (listed, stricter on purpose).
 */
import { createHmac, createSecretKey } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { verifyHs256 } from '../../api/auth/jwt-hs256';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const ISSUER = 'closetflow';
const AUDIENCE = 'closetflow-api';
const TOLERANCE = 30;
const NOW = 1_900_000_000;
const REQUIRED = ['sub', 'iat', 'exp'];

const b64 = (v: string | Buffer | object) => Buffer.from(typeof v === 'string' || Buffer.isBuffer(v) ? v : JSON.stringify(v)).toString('base64url');
/** A token with exactly these header and payload bytes, HMAC-signed (any hash, any secret). */
function signRaw(header: object | string, payload: object | Buffer | string, { secret = SECRET, hash = 'sha256' } = {}): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}
const claims = (over: Record<string, unknown> = {}) => ({
  sub: 'c_member',
  role: 'customer',
  sid: 's_1',
  iss: ISSUER,
  aud: AUDIENCE,
  iat: NOW - 10,
  exp: NOW + 600,
  ...over,
});
const valid = signRaw({ alg: 'HS256', typ: 'JWT' }, claims());
const [vh, vp, vs] = valid.split('.') as [string, string, string];

const corpus: Record<string, string> = {
  'a valid token': valid,
  'a valid token without typ': signRaw({ alg: 'HS256' }, claims()),
  'aud as a list that contains ours': signRaw({ alg: 'HS256' }, claims({ aud: ['other', AUDIENCE] })),
  'exp just inside the clock tolerance': signRaw({ alg: 'HS256' }, claims({ exp: NOW - TOLERANCE + 1 })),
  'exp at the clock tolerance': signRaw({ alg: 'HS256' }, claims({ exp: NOW - TOLERANCE })),
  'nbf within the tolerance': signRaw({ alg: 'HS256' }, claims({ nbf: NOW + TOLERANCE })),
  'nbf beyond the tolerance': signRaw({ alg: 'HS256' }, claims({ nbf: NOW + TOLERANCE + 1 })),
  'a tampered payload': `${vh}.${b64(claims({ sub: 'c_someone_else' }))}.${vs}`,
  'a tampered header': `${b64({ alg: 'HS256', typ: 'JWT', kid: 'x' })}.${vp}.${vs}`,
  'alg none, no signature': `${b64({ alg: 'none' })}.${vp}.`,
  'alg HS512 signed with HS512': signRaw({ alg: 'HS512' }, claims(), { hash: 'sha512' }),
  'alg RS256 header over an HMAC': signRaw({ alg: 'RS256' }, claims()),
  'another secret': signRaw({ alg: 'HS256' }, claims(), { secret: 'another-secret-that-is-long-enough-0000000' }),
  'a crit header': signRaw({ alg: 'HS256', crit: ['exp'] }, claims()),
  'b64 false': signRaw({ alg: 'HS256', b64: false, crit: ['b64'] }, claims()),
  expired: signRaw({ alg: 'HS256' }, claims({ exp: NOW - 3600 })),
  'another issuer': signRaw({ alg: 'HS256' }, claims({ iss: 'someone' })),
  'another audience': signRaw({ alg: 'HS256' }, claims({ aud: 'other-api' })),
  'aud as a list without ours': signRaw({ alg: 'HS256' }, claims({ aud: ['other'] })),
  'no sub': signRaw({ alg: 'HS256' }, { ...claims(), sub: undefined }),
  'no iat': signRaw({ alg: 'HS256' }, { ...claims(), iat: undefined }),
  'no exp': signRaw({ alg: 'HS256' }, { ...claims(), exp: undefined }),
  'exp as a string': signRaw({ alg: 'HS256' }, claims({ exp: String(NOW + 600) })),
  'iat as a string': signRaw({ alg: 'HS256' }, claims({ iat: 'yesterday' })),
  'a payload that is a JSON array': signRaw({ alg: 'HS256' }, Buffer.from('[1,2]')),
  'a payload that is not JSON': signRaw({ alg: 'HS256' }, Buffer.from('not json')),
  'a payload that is not UTF-8': signRaw({ alg: 'HS256' }, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
  'a header that is not JSON': signRaw('{alg:HS256}', claims()),
  'two parts': `${vh}.${vp}`,
  'four parts': `${valid}.x`,
  'a signature that is not base64url': `${vh}.${vp}.${vs.slice(0, -2)}+/`,
  'a truncated signature': `${vh}.${vp}.${vs.slice(0, 10)}`,
  'an empty string': '',
  garbage: 'garbage',
};
/** Refused here, accepted by jose: deliberate. */
const STRICTER = new Set(['a valid token but sub is a number']);
corpus['a valid token but sub is a number'] = signRaw({ alg: 'HS256' }, claims({ sub: 42 }));

async function joseAccepts(token: string): Promise<Record<string, unknown> | undefined> {
  const key = new TextEncoder().encode(SECRET);
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      clockTolerance: TOLERANCE,
      currentDate: new Date(NOW * 1000),
      requiredClaims: REQUIRED,
    });
    return payload as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
function oursAccepts(token: string): Record<string, unknown> | undefined {
  try {
    return verifyHs256(token, createSecretKey(Buffer.from(SECRET)), {
      issuer: ISSUER,
      audience: AUDIENCE,
      clockToleranceSeconds: TOLERANCE,
      nowSeconds: NOW,
      requiredClaims: REQUIRED,
    });
  } catch {
    return undefined;
  }
}

describe('the HS256 verifier on the request path', () => {
  test.each(Object.keys(corpus))('decides like jose on %s', async (name) => {
    const token = corpus[name]!;
    const [theirs, ours] = [await joseAccepts(token), oursAccepts(token)];
    if (STRICTER.has(name)) {
      expect(theirs).toBeDefined();
      expect(ours).toBeUndefined();
      return;
    }
    expect(ours).toEqual(theirs);
  });

  test('the corpus holds tokens both accept and tokens both refuse', async () => {
    const decisions = await Promise.all(Object.values(corpus).map(async (t) => (await joseAccepts(t)) !== undefined));
    expect(decisions.filter(Boolean).length).toBeGreaterThanOrEqual(5);
    expect(decisions.filter((d) => !d).length).toBeGreaterThanOrEqual(20);
  });

  test('accepts what jose signs', async () => {
    const token = await new SignJWT({ role: 'admin', sid: 's_9' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('c_x')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 60)
      .sign(new TextEncoder().encode(SECRET));
    expect(oursAccepts(token)).toMatchObject({ sub: 'c_x', role: 'admin', sid: 's_9', exp: NOW + 60 });
  });
});
