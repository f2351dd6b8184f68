/** Warehouse activities: the shipments read model. */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { shipments } from '../../db/schema/warehouse';
import type { RecordShipmentInput, RecordShipmentResult, WarehouseActivities } from '../../workflows/warehouse/contract';

/** Creates the warehouse activities over a database. */
export function createWarehouseActivities({ db }: { db: Db }): WarehouseActivities {
  return {
    /** Upserts the shipment row (idempotent). */
    async recordShipment(input: RecordShipmentInput): Promise<RecordShipmentResult> {
      await db
        .insert(shipments)
        .values({
          orderId: input.orderId,
          customerId: input.customerId,
          instructionId: input.instructionId ?? null,
          status: input.milestone,
          trackingNumber: input.trackingNumber ?? null,
        })
        .onConflictDoUpdate({
          target: shipments.orderId,
          set: {
            status: input.milestone,
            ...(input.instructionId ? { instructionId: input.instructionId } : {}),
            ...(input.trackingNumber ? { trackingNumber: input.trackingNumber } : {}),
            updatedAt: sql`now()`,
          },
        });
      return { milestone: input.milestone };
    },
  };
}
