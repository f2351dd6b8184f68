/**
 * Signup with e-mail verification (OWASP: do not reveal whether an address is registered).
 *
 * `requestSignup` answers nothing about the address: in one statement it either stores a pending
 * signup (`auth.signup_requests`, the token only as its SHA-256) and queues the verification
 * e-mail carrying the token, or, for a registered address, queues a "someone tried to sign up
 * with your address" e-mail without a token. Both go through the mail outbox
 * (`auth.mail_outbox`), so the provider is never on the request's path. `consumeSignupRequest`
 * spends a token once and creates the member from what signup stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { Db } from '../../db/client';
import { customers, mailOutbox, signupRequests } from '../../db/schema/auth';
import { paymentMethods } from '../../db/schema/payment';
import type { addressInputSchema } from '../vocabulary';
import type { Role } from './tokens';

/** `vt_` and 32 random bytes (base64url): what the verification e-mail carries and verify takes. */
export const VERIFICATION_TOKEN = /vt_[0-9A-Za-z_-]{43}/;

/** SHA-256 of a token: what the database keeps, so a read of it cannot verify anyone. */
export const hashVerificationToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** What signup validated, with the password already hashed. */
export interface SignupProfile {
  email: string;
  passwordHash: string;
  name: string;
  size: string;
  preferredCategories: string[];
  address: z.output<typeof addressInputSchema>;
  cardToken: string;
}

/** "24 hours", "30 minutes": how long a token lives, for the e-mail. */
function validFor(seconds: number): string {
  const [amount, unit] = seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : [Math.ceil(seconds / 60), 'minute'];
  return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
}

// The e-mails carry nothing the requester typed except the address itself: a signup form must not
// let a stranger put their text (a link, a lure) into a mail sent in our name to someone else.
function verificationMail({ token, publicUrl, ttlSeconds }: { token: string; publicUrl: string; ttlSeconds: number }): { subject: string; text: string } {
  return {
    subject: 'Confirm your e-mail address for closetflow',
    text: [
      'Someone, hopefully you, asked to become a closetflow member with this e-mail address.',
      '',
      `To confirm it and finish signing up, send this token within ${validFor(ttlSeconds)}:`,
      '',
      `  ${token}`,
      '',
      `  POST ${publicUrl.replace(/\/+$/, '')}/v1/auth/verify  {"token": "${token}"}`,
      '',
      'If it was not you, ignore this message: no account is created without the token.',
    ].join('\n'),
  };
}

function signupAttemptMail({ publicUrl }: { publicUrl: string }): { subject: string; text: string } {
  return {
    subject: 'Someone tried to sign up with your e-mail address',
    text: [
      'Someone tried to create a closetflow membership with this e-mail address, which already has one.',
      'Nothing was changed: your account and your password are as they were.',
      '',
      `If it was you, log in instead: POST ${publicUrl.replace(/\/+$/, '')}/v1/auth/login`,
      'If it was not you, you can ignore this message.',
    ].join('\n'),
  };
}

/**
 * Stores a pending signup and queues its verification e-mail, or (the address is a member's)
 * queues the "someone tried" e-mail; one statement either way. `registered` is for the log only:
 * the caller answers both alike.
 */
export async function requestSignup(
  db: Db,
  { profile, publicUrl, ttlSeconds }: { profile: SignupProfile; publicUrl: string; ttlSeconds: number },
): Promise<{ registered: boolean }> {
  const token = `vt_${randomBytes(32).toString('base64url')}`;
  const verify = verificationMail({ token, publicUrl, ttlSeconds });
  const attempt = signupAttemptMail({ publicUrl });
  const requestId = `sr_${randomBytes(16).toString('base64url')}`;
  const mailId = `m_${randomBytes(16).toString('base64url')}`;
  const rows = (await db.execute<{ registered: boolean }>(sql`
    with registered as (select from ${customers} where email = ${profile.email}),
    request as (
      insert into ${signupRequests} (id, token_hash, email, password_hash, name, size, preferred_categories, address, card_token, expires_at)
      select ${requestId}, ${hashVerificationToken(token)}, ${profile.email}, ${profile.passwordHash}, ${profile.name}, ${profile.size},
        ${JSON.stringify(profile.preferredCategories)}::jsonb, ${JSON.stringify(profile.address)}::jsonb, ${profile.cardToken}, now() + make_interval(secs => ${ttlSeconds})
      where not exists (select from registered)
    ),
    mail as (
      insert into ${mailOutbox} (id, recipient, template, subject, body, expires_at)
      select ${mailId}, ${profile.email},
        case when exists (select from registered) then 'signup-attempt' else 'verify-email' end,
        case when exists (select from registered) then ${attempt.subject} else ${verify.subject} end,
        case when exists (select from registered) then ${attempt.text} else ${verify.text} end,
        now() + make_interval(secs => ${ttlSeconds})
    )
    select exists (select from registered) as registered
  `)) as unknown as { registered: boolean }[];
  return { registered: !!rows[0]?.registered };
}

/** What spending a token came to. */
export type VerifyOutcome =
  | { kind: 'created'; requestId: string; customerId: string; role: Role; cardToken: string }
  /** Never issued (or deleted a day after it expired). */
  | { kind: 'unknown' }
  | { kind: 'expired' }
  | { kind: 'spent' }
  /** The address became a member's since the signup (another verified signup): the token is spent. */
  | { kind: 'email-taken' };

/** Spends a verification token once and creates the member (customer row) from its signup, in one transaction. */
export async function consumeSignupRequest(db: Db, { token, customerId }: { token: string; customerId: string }): Promise<VerifyOutcome> {
  const tokenHash = hashVerificationToken(token);
  return db.transaction(async (tx): Promise<VerifyOutcome> => {
    const [request] = await tx
      .update(signupRequests)
      .set({ consumedAt: sql`now()` })
      .where(and(eq(signupRequests.tokenHash, tokenHash), isNull(signupRequests.consumedAt), gt(signupRequests.expiresAt, sql`now()`)))
      .returning();
    if (!request) {
      const [seen] = await tx.select({ consumedAt: signupRequests.consumedAt }).from(signupRequests).where(eq(signupRequests.tokenHash, tokenHash)).limit(1);
      return seen ? { kind: seen.consumedAt ? 'spent' : 'expired' } : { kind: 'unknown' };
    }
    const [customer] = await tx
      .insert(customers)
      .values({
        id: customerId,
        email: request.email,
        passwordHash: request.passwordHash,
        name: request.name,
        size: request.size,
        preferredCategories: request.preferredCategories,
        address: request.address,
      })
      .onConflictDoNothing({ target: customers.email })
      .returning({ id: customers.id, role: customers.role });
    if (!customer) return { kind: 'email-taken' };
    return { kind: 'created', requestId: request.id, customerId: customer.id, role: customer.role, cardToken: request.cardToken };
  });
}

/** Undoes a verification whose membership could not start: no member, no card, and the token works again. */
export async function releaseSignupRequest(db: Db, { requestId, customerId }: { requestId: string; customerId: string }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(paymentMethods).where(eq(paymentMethods.customerId, customerId));
    await tx.delete(customers).where(eq(customers.id, customerId));
    await tx.update(signupRequests).set({ consumedAt: null }).where(eq(signupRequests.id, requestId));
  });
}
