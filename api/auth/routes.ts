/** Signup and login (`/v1/auth`). Members are rows of `auth.customers`; passwords only as scrypt hashes. */
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
import { findCustomerByEmail } from './customers';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords';
import type { Role, TokenService } from './tokens';

/** Emails are compared case-insensitively: stored trimmed and lower-cased. */
const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email());

const signupBody = z
  .object({
    email: emailSchema,
    // Upper bound keeps hashing cost bounded; no composition rules (NIST SP 800-63B).
    password: z.string().min(10).max(256),
    name: z.string().trim().min(1).max(200),
    size: sizeSchema,
    preferredCategories: categoriesSchema,
    address: addressInputSchema,
    /** The card on file for the membership fee and purchases (a PSP token); default tok_visa. */
    card: cardInputSchema.optional(),
  })
  .strict();

const loginBody = z
  .object({
    email: emailSchema,
    password: z.string().min(1).max(256),
  })
  .strict();

export function authRoutes({ db, tokens, temporal }: { db: Db; tokens: TokenService; temporal: Client }): Router {
  const router = Router();
  // Computed once up front so the first unknown-email login is not slower than the others.
  void dummyPasswordHash();

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
    res.status(201).json({ customerId: id, token: await tokens.sign({ customerId: id, role: inserted[0].role as Role }) });
  });

  router.post('/login', async (req, res) => {
    const body = parseBody(req, loginBody);
    const customer = await findCustomerByEmail(db, body.email);
    // Unknown email and wrong password cost the same and answer the same: no account enumeration.
    const ok = await verifyPassword(body.password, customer?.passwordHash ?? (await dummyPasswordHash()));
    if (!customer || !ok) throw new ProblemError('invalid-credentials', 'Check the email address and password.');
    res.json({ customerId: customer.id, token: await tokens.sign({ customerId: customer.id, role: customer.role }) });
  });

  return router;
}
