/**
 * Signup, login, refresh and logout (`/v1/auth`). Members are rows of `auth.customers`; passwords
 * only as scrypt hashes. Signup and login open a session (api/auth/sessions.ts) and answer a
 * short-lived access token plus a refresh token; refresh rotates the refresh token; logout
 * revokes the session, so its access tokens stop working at once. Failed logins are counted per
 * account and per client IP; past the limit, login answers 429 without checking the password.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { savePaymentMethod } from '../../activities/payment';
import { customers } from '../../db/schema/auth';
import { paymentMethods } from '../../db/schema/payment';
import { ORDERS_TASK_QUEUE, membershipWorkflowId, type MembershipWorkflowInput } from '../../workflows/orders/contract';
import { DEFAULT_CARD_TOKEN } from '../../workflows/payment/contract';
import { CustomerIdAttribute } from '../../workflows/search-attributes';
import { cardInputSchema } from '../payment/routes';
import { newId } from '../ids';
import { ProblemError } from '../problems';
import { ctx } from '../request-context';
import { parseBody } from '../validation';
import { addressInputSchema, categoriesSchema, sizeSchema } from '../vocabulary';
import { WindowCounter, retryAfterSeconds } from '../rate-limit';
import { findCustomerByEmail } from './customers';
import { principal, requireAuth } from './middleware';
import { newPasswordSchema, passwordContainsEmail } from './password-policy';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords';
import { InvalidRefreshTokenError, type SessionStore } from './sessions';
import type { Role, TokenService } from './tokens';

/** Limits on failed logins (config LOGIN_*). */
export interface LoginLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  lockoutSeconds: number;
}

/** Emails are compared case-insensitively: stored trimmed and lower-cased. */
const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email());

const signupBody = z
  .object({
    email: emailSchema,
    // Upper bound keeps hashing cost bounded; no composition rules (NIST SP 800-63B).
    password: newPasswordSchema,
    name: z.string().trim().min(1).max(200),
    size: sizeSchema,
    preferredCategories: categoriesSchema,
    address: addressInputSchema,
    /** The card on file for the membership fee and purchases (a PSP token); default tok_visa. */
    card: cardInputSchema.optional(),
  })
  .strict()
  .superRefine((b, issue) => {
    if (passwordContainsEmail(b.password, b.email)) issue.addIssue({ code: 'custom', path: ['password'], message: 'must not contain the email address' });
  });

export const loginBody = z
  .object({
    email: emailSchema,
    password: z.string().min(1).max(256),
  })
  .strict();

export const refreshBody = z.object({ refreshToken: z.string().min(1).max(200) }).strict();

export { signupBody };

/** What signup, login and refresh answer. */
export const tokenResponseSchema = z
  .object({
    customerId: z.string(),
    role: z.enum(['customer', 'admin']),
    tokenType: z.literal('Bearer'),
    accessToken: z.string().meta({ description: 'Send as `Authorization: Bearer <accessToken>`.' }),
    /** Kept for clients written before refresh tokens: the same value as accessToken. */
    token: z.string().meta({ description: 'Deprecated alias of accessToken.', deprecated: true }),
    expiresIn: z.number().int().meta({ description: 'Seconds until the access token expires.' }),
    refreshToken: z.string().meta({ description: 'Single use: POST it to /v1/auth/refresh for a new pair. Reusing a spent one revokes the session.' }),
  })
  .strict();
type TokenResponse = z.infer<typeof tokenResponseSchema>;

export function authRoutes({ db, tokens, temporal, sessions, limits }: { db: Db; tokens: TokenService; temporal: Client; sessions: SessionStore; limits: LoginLimits }): Router {
  const router = Router();
  // Computed once up front so the first unknown-email login is not slower than the others.
  void dummyPasswordHash();
  const failuresByAccount = new WindowCounter(limits.lockoutSeconds * 1000);
  const failuresByIp = new WindowCounter(limits.lockoutSeconds * 1000);

  async function issue(customerId: string, role: Role): Promise<TokenResponse> {
    const { sessionId, refreshToken } = await sessions.open({ customerId, role });
    const accessToken = await tokens.sign({ customerId, role, sessionId });
    return { customerId, role, tokenType: 'Bearer', accessToken, token: accessToken, expiresIn: tokens.ttlSeconds, refreshToken };
  }

  router.post('/signup', async (req, res) => {
    const body = parseBody(req, signupBody);
    const passwordHash = await hashPassword(body.password);
    const id = newId('c');
    const inserted = await db
      .insert(customers)
      .values({
        id,
        email: body.email,
        passwordHash,
        name: body.name,
        size: body.size,
        preferredCategories: body.preferredCategories,
        address: body.address,
      })
      .onConflictDoNothing({ target: customers.email })
      .returning({ id: customers.id, role: customers.role });
    if (inserted.length === 0) throw new ProblemError('email-taken', 'Log in instead, or use another email address.');
    // Card on file, then the membership (which bills the first period at once).
    try {
      await savePaymentMethod(db, id, body.card?.token ?? DEFAULT_CARD_TOKEN);
      await temporal.workflow.start('membershipWorkflow', {
        taskQueue: ORDERS_TASK_QUEUE,
        workflowId: membershipWorkflowId(id),
        args: [{ customerId: id } satisfies MembershipWorkflowInput],
        // A retried start joins the running membership; a closed (suspended) one is never restarted.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [{ key: CustomerIdAttribute, value: id }],
        staticSummary: `Membership of ${id}`,
      });
    } catch (err) {
      // No membership, no account: the member can sign up again with the same email.
      await db.delete(paymentMethods).where(eq(paymentMethods.customerId, id)).catch(() => undefined);
      await db.delete(customers).where(eq(customers.id, id)).catch(() => undefined);
      throw err;
    }
    ctx(res).log.info({ customerId: id }, 'member signed up');
    res.status(201).json(await issue(id, inserted[0].role as Role));
  });

  router.post('/login', async (req, res) => {
    const body = parseBody(req, loginBody);
    const ip = req.ip ?? 'unknown';
    // Checked before the password: a locked-out guesser learns nothing, and costs no scrypt.
    const byAccount = failuresByAccount.peek(body.email);
    const byIp = failuresByIp.peek(ip);
    const locked = byAccount.count >= limits.maxFailuresPerAccount ? byAccount : byIp.count >= limits.maxFailuresPerIp ? byIp : undefined;
    if (locked) {
      ctx(res).log.warn({ lockedBy: locked === byAccount ? 'account' : 'ip' }, 'login refused: too many failures');
      throw new ProblemError('too-many-login-attempts', 'Too many failed logins for this account or from this address.', {}, { 'Retry-After': String(retryAfterSeconds(locked.resetAt)) });
    }
    const customer = await findCustomerByEmail(db, body.email);
    // Unknown email and wrong password cost the same and answer the same: no account enumeration.
    const ok = await verifyPassword(body.password, customer?.passwordHash ?? (await dummyPasswordHash()));
    if (!customer || !ok) {
      failuresByAccount.hit(body.email);
      failuresByIp.hit(ip);
      throw new ProblemError('invalid-credentials', 'Check the email address and password.');
    }
    failuresByAccount.reset(body.email);
    res.json(await issue(customer.id, customer.role));
  });

  /** A new access token and a new refresh token for a spent one (rotation). */
  router.post('/refresh', async (req, res) => {
    const { refreshToken } = parseBody(req, refreshBody);
    let rotated;
    try {
      rotated = await sessions.rotate(refreshToken);
    } catch (err) {
      if (!(err instanceof InvalidRefreshTokenError)) throw err;
      ctx(res).log.warn({ reason: err.message }, 'refresh token refused');
      throw new ProblemError('invalid-refresh-token', 'Log in again.');
    }
    const accessToken = await tokens.sign({ customerId: rotated.customerId, role: rotated.role, sessionId: rotated.sessionId });
    res.json({
      customerId: rotated.customerId,
      role: rotated.role,
      tokenType: 'Bearer',
      accessToken,
      token: accessToken,
      expiresIn: tokens.ttlSeconds,
      refreshToken: rotated.refreshToken,
    } satisfies TokenResponse);
  });

  /** Ends the caller's session: its access tokens and refresh token stop working at once. */
  router.post('/logout', requireAuth(tokens), async (_req, res) => {
    const { sessionId, customerId } = principal(res);
    if (sessionId) await sessions.revoke(sessionId, 'logout');
    ctx(res).log.info({ customerId }, 'logged out');
    res.status(204).end();
  });

  return router;
}
