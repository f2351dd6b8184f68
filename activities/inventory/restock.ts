/** Inventory's deployable restock setting: the cleaning time of a returned clean item. */
import { CLEANING_TIME } from '../../workflows/inventory/contract';
import type { RestockActivities } from '../../workflows/inventory/contract';

/** Creates the restock activities; `cleaningTime` comes from INVENTORY_CLEANING_TIME (or its former name RETURNS_CLEANING_TIME). */
export function createRestockActivities({ cleaningTime }: { cleaningTime?: string }): RestockActivities {
  return {
    /**
     * The deployment's cleaning time, read once per restock: as an activity result it is in the
     * workflow's history, so a replay sees the value the run used even if the setting changed.
     */
    async cleaningPolicy(): Promise<{ cleaningTime: string }> {
      return { cleaningTime: cleaningTime ?? CLEANING_TIME };
    },
  };
}
