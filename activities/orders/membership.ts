/** Membership activities: the `orders.memberships` read model. */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { memberships } from '../../db/schema/membership';
import type { MembershipStatus } from '../../workflows/orders/contract';

export interface RecordMembershipInput {
  customerId: string;
  status: MembershipStatus;
  period: string;
}

/** Creates the membership activities (hosted by the orders worker). */
export function createMembershipActivities({ db }: { db: Db }) {
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
export type MembershipActivities = ReturnType<typeof createMembershipActivities>;
