/**
 * Login sessions and refresh tokens (`auth.sessions`). A refresh token is `rt_<sessionId>.<secret>`;
 * only SHA-256(secret) is stored, compared in constant time. Each refresh swaps in a new secret
 * with a compare-and-set on the old hash, so two refreshes racing with one token cannot both win;
 * a token that was already rotated away revokes the session (someone copied it).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { preparedQuery, type Db } from '../../db/client';
import { customers, sessions } from '../../db/schema/auth';
import type { Principal, Role } from './tokens';

const REFRESH_TOKEN = /^rt_(s_[0-9A-Za-z_-]{22})\.([0-9A-Za-z_-]{43})$/;

/** Thrown for any refresh token that must not be honoured; the message is for logs only. */
export class InvalidRefreshTokenError extends Error {
  override readonly name = 'InvalidRefreshTokenError';
}

const sha256 = (secret: string): string => createHash('sha256').update(secret).digest('hex');
const sameHash = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export interface SessionStore {
  /** Opens a session for a member who just proved who they are; returns its id and first refresh token. */
  open(input: { customerId: string; role: Role }): Promise<{ sessionId: string; refreshToken: string }>;
  /** Exchanges a refresh token for the next one (rotation); throws InvalidRefreshTokenError. */
  rotate(refreshToken: string): Promise<Principal & { sessionId: string; refreshToken: string }>;
  /** Revokes a session (logout); later access and refresh tokens of it are refused. */
  revoke(sessionId: string, reason: string): Promise<void>;
  /** True while the session is live and still belongs to this customer and role (the account's current role). */
  isActive(principal: Principal & { sessionId: string }): Promise<boolean>;
}

// Every authenticated request runs it: prepared once per database handle.
const sessionCheck = preparedQuery((db) =>
  db
    .select({ customerId: sessions.customerId, role: sessions.role, currentRole: customers.role, expiresAt: sessions.expiresAt, revokedAt: sessions.revokedAt })
    .from(sessions)
    .innerJoin(customers, eq(customers.id, sessions.customerId))
    .where(eq(sessions.id, sql.placeholder('sessionId')))
    .limit(1)
    .prepare('session_check'),
);

export function createSessionStore({ db, ttlSeconds, now = () => Date.now() }: { db: Db; ttlSeconds: number; now?: () => number }): SessionStore {
  const newSecret = (): string => randomBytes(32).toString('base64url');

  return {
    async open({ customerId, role }) {
      const sessionId = `s_${randomBytes(16).toString('base64url')}`;
      const secret = newSecret();
      await db.insert(sessions).values({ id: sessionId, customerId, role, refreshHash: sha256(secret), expiresAt: new Date(now() + ttlSeconds * 1000) });
      return { sessionId, refreshToken: `rt_${sessionId}.${secret}` };
    },

    async rotate(refreshToken) {
      const match = REFRESH_TOKEN.exec(refreshToken);
      if (!match) throw new InvalidRefreshTokenError('malformed');
      const [, sessionId, secret] = match;
      const [joined] = await db
        .select({ session: sessions, currentRole: customers.role })
        .from(sessions)
        .innerJoin(customers, eq(customers.id, sessions.customerId))
        .where(eq(sessions.id, sessionId))
        .limit(1);
      if (!joined) throw new InvalidRefreshTokenError('unknown session');
      const row = joined.session;
      if (row.revokedAt) throw new InvalidRefreshTokenError('session revoked');
      if (row.expiresAt.getTime() <= now()) throw new InvalidRefreshTokenError('session expired');
      if (!sameHash(sha256(secret), row.refreshHash)) {
        // An old token of a live session: it was rotated away, so whoever holds it copied it.
        await db
          .update(sessions)
          .set({ revokedAt: new Date(now()), revokedReason: 'refresh token reused' })
          .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
        throw new InvalidRefreshTokenError('refresh token reused; session revoked');
      }
      if (joined.currentRole !== row.role) {
        // Promoted or demoted since login: the session's role is stale, so it ends; log in again.
        await db
          .update(sessions)
          .set({ revokedAt: new Date(now()), revokedReason: 'role changed' })
          .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
        throw new InvalidRefreshTokenError('role changed since login');
      }
      const next = newSecret();
      const swapped = await db
        .update(sessions)
        .set({ refreshHash: sha256(next), generation: sql`${sessions.generation} + 1` })
        .where(and(eq(sessions.id, sessionId), eq(sessions.refreshHash, row.refreshHash), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id });
      if (swapped.length === 0) throw new InvalidRefreshTokenError('lost a concurrent rotation');
      return { customerId: row.customerId, role: row.role, sessionId, refreshToken: `rt_${sessionId}.${next}` };
    },

    async revoke(sessionId, reason) {
      await db
        .update(sessions)
        .set({ revokedAt: new Date(now()), revokedReason: reason })
        .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
    },

    async isActive({ sessionId, customerId, role }) {
      // Joined with the account, so a role change (e.g. an admin demoted) takes effect at once.
      const [row] = await sessionCheck(db).execute({ sessionId });
      return !!row && !row.revokedAt && row.expiresAt.getTime() > now() && row.customerId === customerId && row.role === role && row.currentRole === role;
    },
  };
}
