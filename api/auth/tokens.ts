/**
 * Access tokens: compact JWS (JWT) signed with HMAC-SHA256 (HS256) and `config.JWT_SECRET`.
 *
 * Implemented on node:crypto rather than `jose`: jose 6 is ESM-only and the Jest 29 setup
 * (CommonJS, transforms only .ts) cannot load it. The surface is deliberately tiny: one
 * algorithm, pinned on verification (no `alg: none`, no algorithm confusion), constant-time
 * signature comparison, and `iss`/`aud`/`exp`/`iat`/`sub` all checked.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TOKEN_ISSUER = 'closetflow';
export const TOKEN_AUDIENCE = 'closetflow-api';
/** Tolerated clock difference when checking `iat`/`exp`. */
const CLOCK_SKEW_SECONDS = 30;

export type Role = 'customer' | 'admin';

/** Who a valid token speaks for. */
export interface Principal {
  customerId: string;
  role: Role;
}

/** Thrown for any token that must not be accepted; the message is for logs only. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface TokenService {
  sign(principal: Principal): string;
  verify(token: string): Principal;
}

/** Creates the signer/verifier over a secret (at least 32 characters). */
export function createTokenService({ secret, ttlSeconds, now = () => Date.now() }: { secret: string; ttlSeconds: number; now?: () => number }): TokenService {
  if (secret.length < 32) throw new Error('the JWT secret must be at least 32 characters');
  const key = Buffer.from(secret, 'utf8');
  const mac = (input: string): Buffer => createHmac('sha256', key).update(input).digest();

  return {
    sign({ customerId, role }) {
      const iat = Math.floor(now() / 1000);
      const payload = b64json({ sub: customerId, role, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat, exp: iat + ttlSeconds });
      const signingInput = `${HEADER}.${payload}`;
      return `${signingInput}.${mac(signingInput).toString('base64url')}`;
    },

    verify(token) {
      const parts = token.split('.');
      if (parts.length !== 3) throw new InvalidTokenError('not a compact JWS');
      const [headerPart, payloadPart, signaturePart] = parts;
      let header: { alg?: unknown; crit?: unknown };
      try {
        header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
      } catch {
        throw new InvalidTokenError('unreadable header');
      }
      if (header.alg !== 'HS256' || header.crit !== undefined) throw new InvalidTokenError('unexpected algorithm or critical header');

      const expected = mac(`${headerPart}.${payloadPart}`);
      const given = Buffer.from(signaturePart, 'base64url');
      // Re-encoding rejects non-canonical base64url (Node's decoder silently skips stray characters).
      if (given.length !== expected.length || given.toString('base64url') !== signaturePart || !timingSafeEqual(given, expected)) {
        throw new InvalidTokenError('bad signature');
      }

      let claims: Record<string, unknown>;
      try {
        claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
      } catch {
        throw new InvalidTokenError('unreadable payload');
      }
      const nowSeconds = Math.floor(now() / 1000);
      if (claims.iss !== TOKEN_ISSUER || claims.aud !== TOKEN_AUDIENCE) throw new InvalidTokenError('wrong issuer or audience');
      if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds - CLOCK_SKEW_SECONDS) throw new InvalidTokenError('expired');
      if (typeof claims.iat !== 'number' || claims.iat > nowSeconds + CLOCK_SKEW_SECONDS) throw new InvalidTokenError('issued in the future');
      if (typeof claims.sub !== 'string' || !claims.sub.startsWith('c_')) throw new InvalidTokenError('bad subject');
      if (claims.role !== 'customer' && claims.role !== 'admin') throw new InvalidTokenError('bad role');
      return { customerId: claims.sub, role: claims.role };
    },
  };
}
