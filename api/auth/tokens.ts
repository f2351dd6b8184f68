/**
 * Access tokens: short-lived JWTs signed with HS256 over `config.JWT_SECRET`, made by `jose` and
 * checked by ./jwt-hs256 (node:crypto, synchronous: it runs on every request). Verification pins
 * the algorithm (no `alg: none`, no algorithm confusion) and checks
 * `iss`, `aud`, `exp`, `iat`, `sub`, the role and, when a session store is given, that the
 * token's session (`sid`) is live and bound to the same customer and role (logout revokes it).
 */
import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { JwtRefusedError, verifyHs256 } from './jwt-hs256';

export const TOKEN_ISSUER = 'closetflow';
export const TOKEN_AUDIENCE = 'closetflow-api';
/** Tolerated clock difference when checking `iat`/`exp`. */
const CLOCK_SKEW_SECONDS = 30;

export type Role = 'customer' | 'admin';

/** Who a valid token speaks for. */
export interface Principal {
  customerId: string;
  role: Role;
  /** The login session the token belongs to (absent only on tokens made without a session store). */
  sessionId?: string;
}

/** What verify() needs to know about sessions (api/auth/sessions.ts). */
export interface SessionCheck {
  isActive(principal: Principal & { sessionId: string }): Promise<boolean>;
}

/** Thrown for any token that must not be accepted; the message is for logs only. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

export interface TokenService {
  sign(principal: Principal): Promise<string>;
  verify(token: string): Promise<Principal>;
  /** Lifetime of the tokens sign() makes. */
  readonly ttlSeconds: number;
}

/** Creates the signer/verifier over a secret (at least 32 characters). */
export function createTokenService({
  secret,
  ttlSeconds,
  sessions,
  now = () => Date.now(),
}: {
  secret: string;
  ttlSeconds: number;
  /** When given, every token must carry a live session id (`sid`). */
  sessions?: SessionCheck;
  now?: () => number;
}): TokenService {
  if (secret.length < 32) throw new Error('the JWT secret must be at least 32 characters');
  // Imported once: given raw bytes, jose imports the key again on every sign.
  const signingKey = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const verifyingKey = createSecretKey(Buffer.from(secret, 'utf8'));

  return {
    ttlSeconds,
    async sign({ customerId, role, sessionId }) {
      const iat = Math.floor(now() / 1000);
      return new SignJWT(sessionId ? { role, sid: sessionId } : { role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(customerId)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .sign(await signingKey);
    },

    async verify(token) {
      let payload: Record<string, unknown>;
      try {
        payload = verifyHs256(token, verifyingKey, {
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          clockToleranceSeconds: CLOCK_SKEW_SECONDS,
          nowSeconds: Math.floor(now() / 1000),
          requiredClaims: ['sub', 'iat', 'exp'],
        });
      } catch (err) {
        if (err instanceof JwtRefusedError) throw new InvalidTokenError(err.message);
        throw new InvalidTokenError('unreadable token');
      }
      const nowSeconds = Math.floor(now() / 1000);
      if (typeof payload.iat !== 'number' || payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) throw new InvalidTokenError('issued in the future');
      if (typeof payload.sub !== 'string' || !payload.sub.startsWith('c_')) throw new InvalidTokenError('bad subject');
      if (payload.role !== 'customer' && payload.role !== 'admin') throw new InvalidTokenError('bad role');
      const principal: Principal = { customerId: payload.sub, role: payload.role };
      if (sessions) {
        if (typeof payload.sid !== 'string') throw new InvalidTokenError('no session');
        if (!(await sessions.isActive({ ...principal, sessionId: payload.sid }))) throw new InvalidTokenError('session revoked, expired or rebound');
        principal.sessionId = payload.sid;
      }
      return principal;
    },
  };
}
