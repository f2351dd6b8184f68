/** Signup and login (`/v1/auth`). Members are rows of `auth.customers`; passwords only as scrypt hashes. */
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { customers } from '../../db/schema/auth';
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
  })
  .strict();

const loginBody = z
  .object({
    email: emailSchema,
    password: z.string().min(1).max(256),
  })
  .strict();

export function authRoutes({ db, tokens }: { db: Db; tokens: TokenService }): Router {
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
