/** The shipments read model (`warehouse.shipments`): one row per box, at its latest milestone. */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { shipments } from '../../db/schema/warehouse';
import type { RecordShipmentInput } from '../../workflows/warehouse/contract';

/** Upserts the box's shipment row (idempotent: the same milestone writes the same row). */
export async function upsertShipment(db: Db, input: RecordShipmentInput): Promise<void> {
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
}
