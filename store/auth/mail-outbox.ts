/**
 * The e-mail outbox (`auth.mail_outbox`) as its relay (api/auth/mail-outbox.ts) works it: claim
 * due rows, record a send, a backoff or a refusal, scrub and prune. Signup writes the rows
 * (api/auth/signup-requests.ts) in the statement that creates the request.
 */
import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { mailOutbox, signupRequests } from '../../db/schema/auth';

/** A row a relay has claimed. */
export interface ClaimedMail {
  id: string;
  recipient: string;
  template: string;
  subject: string;
  body: string | null;
  attempts: number;
}

/** Claims up to `limit` due rows, oldest first, for `claimSeconds`, counting the attempt (SKIP LOCKED: replicas take different rows). */
export async function claimDueMail(db: Db, { limit, claimSeconds }: { limit: number; claimSeconds: number }): Promise<ClaimedMail[]> {
  const t = mailOutbox;
  const due = db
    .select({ id: t.id })
    .from(t)
    .where(and(isNull(t.sentAt), isNull(t.failedAt), lte(t.nextAttemptAt, sql`now()`), gt(t.expiresAt, sql`now()`)))
    .orderBy(asc(t.createdAt))
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(t)
    .set({ nextAttemptAt: sql`now() + ${`${claimSeconds} seconds`}::interval`, attempts: sql`${t.attempts} + 1` })
    .where(inArray(t.id, due))
    .returning({ id: t.id, recipient: t.recipient, template: t.template, subject: t.subject, body: t.body, attempts: t.attempts });
}

/** A failed attempt: the error, and no new claim before `backoffMs`. */
export async function backOffMail(db: Db, id: string, error: string, backoffMs: number): Promise<void> {
  await db
    .update(mailOutbox)
    .set({ lastError: error.slice(0, 1000), nextAttemptAt: sql`now() + ${`${backoffMs} milliseconds`}::interval` })
    .where(eq(mailOutbox.id, id));
}

/** The provider accepted the message: sent, and its body (a verification token) scrubbed. */
export async function markMailSent(db: Db, id: string, providerMessageId: string | null): Promise<void> {
  await db
    .update(mailOutbox)
    .set({ sentAt: sql`now()`, body: null, providerMessageId, lastError: null })
    .where(eq(mailOutbox.id, id));
}

/** Given up for good (a refusal, or nothing to send): failed, its body scrubbed. */
export async function markMailFailed(db: Db, id: string, error: string): Promise<void> {
  await db
    .update(mailOutbox)
    .set({ failedAt: sql`now()`, body: null, lastError: error.slice(0, 1000) })
    .where(eq(mailOutbox.id, id));
}

/** Scrubs unsent rows past their expiry (their token is dead); the rows it scrubbed. */
export async function scrubExpiredMail(db: Db): Promise<{ id: string; template: string }[]> {
  const t = mailOutbox;
  return db
    .update(t)
    .set({ body: null, lastError: sql`coalesce(${t.lastError}, 'expired before it was sent')` })
    .where(and(isNull(t.sentAt), isNull(t.failedAt), isNotNull(t.body), lte(t.expiresAt, sql`now()`)))
    .returning({ id: t.id, template: t.template });
}

/**
 * Deletes rows done (sent, failed or expired) more than `keepHours` ago, and signup requests a day
 * past expiry (until then verify still says "expired", 410; after, the token is unknown, 400).
 */
export async function pruneMail(db: Db, keepHours: number): Promise<{ mails: number; signupRequests: number }> {
  const t = mailOutbox;
  const mails = await db
    .delete(t)
    .where(lt(sql`coalesce(${t.sentAt}, ${t.failedAt}, ${t.expiresAt})`, sql`now() - ${`${keepHours} hours`}::interval`))
    .returning({ id: t.id });
  const requests = await db
    .delete(signupRequests)
    .where(lt(signupRequests.expiresAt, sql`now() - interval '1 day'`))
    .returning({ id: signupRequests.id });
  return { mails: mails.length, signupRequests: requests.length };
}
