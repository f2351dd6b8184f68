/** Membership activities: the `orders.memberships` read model (store/orders/memberships.ts). */
import type { Db } from '../../db/client';
import { upsertMembership } from '../../store/orders/memberships';
import type { MembershipActivities, RecordMembershipInput } from '../../workflows/orders/contract';

/** Creates the membership activities (hosted by the orders worker). */
export function createMembershipActivities({ db }: { db: Db }): MembershipActivities {
  return {
    /** Upserts the member's row; replaying the same transition writes the same row. */
    async recordMembership(input: RecordMembershipInput): Promise<void> {
      await upsertMembership(db, input);
    },
  };
}
