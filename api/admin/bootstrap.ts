/**
 * The first administrator: `ADMIN_EMAIL` / `ADMIN_PASSWORD` create (or update the password and role
 * of) an `auth.customers` row with role `admin` when the API starts.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { customers } from '../../db/schema/auth';
import { hashPassword } from '../auth/passwords';
import { newId } from '../ids';

export async function ensureAdminAccount(db: Db, { email, password }: { email: string; password: string }): Promise<{ customerId: string }> {
  const normalised = email.trim().toLowerCase();
  const passwordHash = await hashPassword(password);
  const [row] = await db
    .insert(customers)
    .values({ id: newId('c'), email: normalised, passwordHash, name: 'Administrator', role: 'admin', size: 'n/a', preferredCategories: [], address: {} })
    .onConflictDoUpdate({ target: customers.email, set: { passwordHash, role: sql`'admin'` } })
    .returning({ id: customers.id });
  return { customerId: row.id };
}
