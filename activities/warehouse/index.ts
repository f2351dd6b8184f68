/** Warehouse activities: the shipments read model (store/warehouse/shipments.ts). */
import type { Db } from '../../db/client';
import { upsertShipment } from '../../store/warehouse/shipments';
import type { RecordShipmentInput, RecordShipmentResult, WarehouseActivities } from '../../workflows/warehouse/contract';

/** Creates the warehouse activities over a database. */
export function createWarehouseActivities({ db }: { db: Db }): WarehouseActivities {
  return {
    /** Upserts the shipment row (idempotent). */
    async recordShipment(input: RecordShipmentInput): Promise<RecordShipmentResult> {
      await upsertShipment(db, input);
      return { milestone: input.milestone };
    },
  };
}
