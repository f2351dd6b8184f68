/** Membership activities: the `orders.memberships` read model. */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { memberships } from '../../db/schema/membership';
import type { RecordMembershipInput, MembershipActivities } from '../../workflows/orders/contract';

/** Creates the membership activities (hosted by the orders worker). */
export function createMembershipActivities({ db }: { db: Db }): MembershipActivities {
  return {
    /** Upserts the member's row; replaying the same transition writes the same row. */
    async recordMembership(input: RecordMembershipInput): Promise<void> {
      await db
        .insert(memberships)
        .values({ customerId: input.customerId, status: input.status, currentPeriod: input.period })
        .onConflictDoUpdate({ target: memberships.customerId, set: { status: input.status, currentPeriod: input.period, updatedAt: sql`now()` } });
    },
  };
}
