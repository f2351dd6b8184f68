/**
 * Checks an HS256 JWT with node:crypto, synchronously. It is on every authenticated request:
 * jose's verify goes through WebCrypto, i.e. a promise chain and a hop to the libuv thread pool
 * (~0.2 ms, and one more thread wake-up on a busy machine); an HMAC here is ~20 µs on the request's
 * own thread. It accepts exactly what jose's `jwtVerify` accepts with the options tokens.ts used
 * (test/api/jwt-hs256.test.ts runs both over the same tokens): compact JWS only, `alg` pinned to
 * HS256, no `crit`, `iss`, `aud`, `exp`, `nbf` and `iat` checked with a clock tolerance.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';

/** Why a token was refused (for logs; never shown to the caller). */
export class JwtRefusedError extends Error {
  override readonly name = 'JwtRefusedError';
}

export interface Hs256VerifyOptions {
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
  nowSeconds: number;
  requiredClaims: readonly string[];
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
// Invalid UTF-8 is refused, not replaced: the bytes signed are the bytes read.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  if (!BASE64URL.test(part)) throw new JwtRefusedError(`${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(Buffer.from(part, 'base64url')));
  } catch {
    throw new JwtRefusedError(`${what} is not JSON`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new JwtRefusedError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The verified payload of `token`, or a {@link JwtRefusedError}. */
export function verifyHs256(token: string, key: KeyObject, opts: Hs256VerifyOptions): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtRefusedError('not a compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeJsonPart(encodedHeader, 'header');
  if (header.alg !== 'HS256') throw new JwtRefusedError('alg is not HS256');
  if (Object.hasOwn(header, 'crit')) throw new JwtRefusedError('crit is not supported');
  if (Object.hasOwn(header, 'b64')) throw new JwtRefusedError('b64 is not supported');
  if (!BASE64URL.test(encodedSignature)) throw new JwtRefusedError('signature is not base64url');

  // The signature first: nothing in an unauthenticated payload is looked at.
  const expected = createHmac('sha256', key).update(`${encodedHeader}.${encodedPayload}`).digest();
  const signature = Buffer.from(encodedSignature, 'base64url');
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw new JwtRefusedError('signature mismatch');

  const payload = decodeJsonPart(encodedPayload, 'payload');
  for (const claim of opts.requiredClaims) if (!Object.hasOwn(payload, claim)) throw new JwtRefusedError(`missing ${claim}`);
  const now = opts.nowSeconds;
  const tolerance = opts.clockToleranceSeconds;
  const numeric = (name: string): number | undefined => {
    const v = payload[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new JwtRefusedError(`${name} is not a number`);
    return v;
  };
  numeric('iat'); // a number when present; the caller decides whether one from the future is acceptable
  const nbf = numeric('nbf');
  const exp = numeric('exp');
  if (nbf !== undefined && nbf > now + tolerance) throw new JwtRefusedError('not yet valid');
  if (exp !== undefined && exp <= now - tolerance) throw new JwtRefusedError('expired');
  if (payload.iss !== opts.issuer) throw new JwtRefusedError('unexpected iss');
  const aud = payload.aud;
  if (!(aud === opts.audience || (Array.isArray(aud) && aud.includes(opts.audience)))) throw new JwtRefusedError('unexpected aud');
  if (Object.hasOwn(payload, 'sub') && typeof payload.sub !== 'string') throw new JwtRefusedError('sub is not a string');
  return payload;
}
