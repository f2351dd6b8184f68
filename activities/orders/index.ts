/** Orders activities: the read model that GET /v1/orders serves (store/orders/orders.ts). */
import type { Db } from '../../db/client';
import { upsertOrder } from '../../store/orders/orders';
import type { OrderActivities, RecordOrderStatusInput, RecordOrderStatusResult } from '../../workflows/orders/contract';

/** Creates the orders activities over a database. */
export function createOrderActivities({ db }: { db: Db }): OrderActivities {
  return {
    /** Upserts the read model row; replaying the same transition writes the same row (idempotent). */
    async recordOrderStatus(input: RecordOrderStatusInput): Promise<RecordOrderStatusResult> {
      await upsertOrder(db, input);
      return { status: input.status };
    },
  };
}
