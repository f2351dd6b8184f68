/**
 * Signup, verification, login, refresh and logout (`/v1/auth`). Members are rows of
 * `auth.customers`; passwords only as scrypt hashes. Signup answers the same 202 whether or not the
 * address is registered and e-mails the address (api/auth/signup-requests.ts): a new one gets a
 * verification token, a member's gets a "someone tried to sign up" notice. Verify spends the
 * token, creates the member and opens a session, like login (api/auth/sessions.ts): a short-lived
 * access token plus a refresh token; refresh rotates the refresh token; logout revokes the
 * session, so its access tokens stop working at once. Failed logins are counted per (account,
 * client IP) pair and per client IP; past the limit, login answers 429 without checking the password.
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { savePaymentMethod } from '../../store/payment/payment-methods';
import { MembershipWorkflow, membershipWorkflowId } from '../../workflows/orders/contract';
import { startWorkflow } from '../../workflows/workflow-ref';
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
import { VERIFICATION_TOKEN, consumeSignupRequest, releaseSignupRequest, requestSignup } from './signup-requests';
import type { Role, TokenService } from './tokens';

/** Limits on failed logins (config LOGIN_*). */
export interface LoginLimits {
  /** Per (account, client IP) pair: a guesser locks out only themselves, never the account. */
  maxFailuresPerAccountAndIp: number;
  maxFailuresPerIp: number;
  lockoutSeconds: number;
  /** Whose budget the failures count against (RATE_LIMIT_NAMESPACE): every API process of the deployment. */
  namespace: string;
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

export const verifyBody = z.object({ token: z.string().max(200).meta({ description: 'The token of the verification e-mail (`vt_…`).' }) }).strict();

/** What signup answers, for a new address and a registered one alike. */
export const signupAcceptedSchema = z
  .object({
    status: z.literal('verification-sent'),
    email: z.string().meta({ description: 'The address, as it will be stored (trimmed, lower-cased).' }),
    expiresIn: z.number().int().meta({ description: 'Seconds the verification token in the e-mail stays valid.' }),
    detail: z.string(),
  })
  .strict();
type SignupAccepted = z.infer<typeof signupAcceptedSchema>;

export { signupBody };

/** What verify, login and refresh answer. */
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

/** How signup reaches the member: the verification e-mail's settings, and the relay to wake. */
export interface SignupMail {
  /** Where the e-mails tell the member to send the token (API_PUBLIC_URL). */
  publicUrl: string;
  /** SIGNUP_VERIFICATION_TTL_SECONDS. */
  verificationTtlSeconds: number;
  /** SIGNUP_MAILS_PER_ADDRESS per SIGNUP_MAIL_WINDOW_SECONDS: e-mails one address gets from signup. */
  maxPerAddress: number;
  windowSeconds: number;
  /** Called after a signup queued an e-mail (the in-process relay's wake); the relay polls anyway. */
  queued?: () => void;
}

const WHOLE_VERIFICATION_TOKEN = new RegExp(`^${VERIFICATION_TOKEN.source}$`);

// One map key per (account, client IP); a newline cannot be part of a validated e-mail address.
const accountAndIp = (email: string, ip: string): string => `${email}\n${ip}`;

/** The `/v1/auth` router: signup, verify, login, refresh, logout (see the module comment). */
export function authRoutes({
  db,
  tokens,
  temporal,
  sessions,
  limits,
  mail,
}: {
  db: Db;
  tokens: TokenService;
  temporal: Client;
  sessions: SessionStore;
  limits: LoginLimits;
  mail: SignupMail;
}): Router {
  const router = Router();
  // Computed once up front so the first unknown-email login is not slower than the others.
  void dummyPasswordHash();
  // Shared by every API process (PostgreSQL), like the rate limits: N replicas, one budget of failures.
  const failuresByAccountAndIp = new WindowCounter(db, `${limits.namespace}:login-failures:account-and-ip`, limits.lockoutSeconds);
  const failuresByIp = new WindowCounter(db, `${limits.namespace}:login-failures:ip`, limits.lockoutSeconds);
  // Counted per address, not per caller: the per-IP rate limit does not stop many callers (or one
  // behind many addresses) from flooding one stranger's inbox with signup e-mails.
  const mailsByAddress = new WindowCounter(db, `${limits.namespace}:signup-mails:address`, mail.windowSeconds);

  async function issue(customerId: string, role: Role): Promise<TokenResponse> {
    const { sessionId, refreshToken } = await sessions.open({ customerId, role });
    const accessToken = await tokens.sign({ customerId, role, sessionId });
    return { customerId, role, tokenType: 'Bearer', accessToken, token: accessToken, expiresIn: tokens.ttlSeconds, refreshToken };
  }

  /**
   * The same 202, at the same cost (one scrypt hash, the address's count, one statement), whether
   * or not the address is registered: the answer, its timing and its headers tell nothing. The
   * e-mail tells the owner.
   * Past the address's e-mail budget the answer is the same 202 and nothing is stored or sent (it
   * tells only that this address was asked for often, which any caller could have done).
   */
  router.post('/signup', async (req, res) => {
    const body = parseBody(req, signupBody);
    const passwordHash = await hashPassword(body.password);
    const accepted = {
      status: 'verification-sent',
      email: body.email,
      expiresIn: mail.verificationTtlSeconds,
      detail: 'Check your inbox: the e-mail sent to this address says how to finish.',
    } satisfies SignupAccepted;
    // A store hiccup lets the signup through, as the rate limits do: requestSignup meets the same database.
    const mailed = await mailsByAddress.hit(body.email).catch(() => undefined);
    if (mailed && mailed.count > mail.maxPerAddress) {
      ctx(res).log.warn({ mailsThisWindow: mailed.count, max: mail.maxPerAddress }, 'signup e-mail budget of the address spent; nothing sent');
      res.status(202).json(accepted);
      return;
    }
    const { registered } = await requestSignup(db, {
      profile: {
        email: body.email,
        passwordHash,
        name: body.name,
        size: body.size,
        preferredCategories: body.preferredCategories,
        address: body.address,
        cardToken: body.card?.token ?? DEFAULT_CARD_TOKEN,
      },
      publicUrl: mail.publicUrl,
      ttlSeconds: mail.verificationTtlSeconds,
    });
    mail.queued?.();
    ctx(res).log.info({ emailRegistered: registered }, 'signup requested');
    res.status(202).json(accepted);
  });

  /** Spends the e-mail's token: creates the member, the card on file and the membership; logs in. */
  router.post('/verify', async (req, res) => {
    const { token } = parseBody(req, verifyBody);
    // A token that cannot be one is refused without a query.
    const outcome = WHOLE_VERIFICATION_TOKEN.test(token) ? await consumeSignupRequest(db, { token, customerId: newId('c') }) : ({ kind: 'unknown' } as const);
    switch (outcome.kind) {
      case 'unknown':
        throw new ProblemError('invalid-verification-token', 'Use the token of the verification e-mail, or sign up again.');
      case 'expired':
        throw new ProblemError('verification-token-expired', 'This token has expired: sign up again for a new one.');
      case 'spent':
        throw new ProblemError('verification-token-expired', 'This token was already used: log in instead.');
      case 'email-taken':
        // Only the address's owner holds the token: telling them reveals nothing.
        throw new ProblemError('email-taken', 'This address is already a member: log in instead.');
    }
    const { customerId: id, role, cardToken, requestId } = outcome;
    // Card on file, then the membership (which bills the first period at once).
    try {
      await savePaymentMethod(db, id, cardToken);
      await startWorkflow(
        temporal.workflow,
        MembershipWorkflow,
        { customerId: id },
        {
          workflowId: membershipWorkflowId(id),
          // A retried start joins the running membership; a closed (suspended) one is never restarted.
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [{ key: CustomerIdAttribute, value: id }],
          staticSummary: `Membership of ${id}`,
        },
      );
    } catch (err) {
      // No membership, no account: the member can verify again with the same token.
      await releaseSignupRequest(db, { requestId, customerId: id }).catch(() => undefined);
      throw err;
    }
    ctx(res).log.info({ customerId: id }, 'member signed up');
    res.status(201).json(await issue(id, role));
  });

  router.post('/login', async (req, res) => {
    const body = parseBody(req, loginBody);
    const ip = req.ip ?? 'unknown';
    const pair = accountAndIp(body.email, ip);
    // Checked before the password: a locked-out guesser learns nothing, and costs no scrypt.
    const [byPair, byIp] = await Promise.all([failuresByAccountAndIp.peek(pair), failuresByIp.peek(ip)]);
    const locked = byPair.count >= limits.maxFailuresPerAccountAndIp ? byPair : byIp.count >= limits.maxFailuresPerIp ? byIp : undefined;
    if (locked) {
      ctx(res).log.warn({ lockedBy: locked === byPair ? 'account-and-ip' : 'ip' }, 'login refused: too many failures');
      throw new ProblemError(
        'too-many-login-attempts',
        'Too many failed logins for this account from this address, or from this address.',
        {},
        { 'Retry-After': String(retryAfterSeconds(locked.resetAt)) },
      );
    }
    const customer = await findCustomerByEmail(db, body.email);
    // Unknown email and wrong password cost the same and answer the same: no account enumeration.
    const ok = await verifyPassword(body.password, customer?.passwordHash ?? (await dummyPasswordHash()));
    if (!customer || !ok) {
      await Promise.all([failuresByAccountAndIp.hit(pair), failuresByIp.hit(ip)]);
      throw new ProblemError('invalid-credentials', 'Check the email address and password.');
    }
    await failuresByAccountAndIp.reset(pair);
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
