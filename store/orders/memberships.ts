/** The memberships read model (`orders.memberships`), written by membershipWorkflow's activity. */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { memberships } from '../../db/schema/membership';
import type { RecordMembershipInput } from '../../workflows/orders/contract';

/** Upserts the member's row; replaying the same transition writes the same row. */
export async function upsertMembership(db: Db, input: RecordMembershipInput): Promise<void> {
  await db
    .insert(memberships)
    .values({ customerId: input.customerId, status: input.status, currentPeriod: input.period })
    .onConflictDoUpdate({ target: memberships.customerId, set: { status: input.status, currentPeriod: input.period, updatedAt: sql`now()` } });
}
