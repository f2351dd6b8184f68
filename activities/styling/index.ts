/** Styling activities: choose items for a box from available stock (inventory's read: store/inventory/items.ts). */
import type { Db } from '../../db/client';
import { pickCandidates } from '../../store/inventory/items';
import { recordPick, recordedPick } from '../../store/styling/picks';
import type { PickedItem } from '../../workflows/styling/contract';
import type { PickItemsInput, PickItemsResult, StylingActivities } from '../../workflows/styling/contract';

/** Backups offered per slot: enough that racing boxes rarely fall through to "any free item". */
const ALTERNATIVES_PER_SLOT = 4;

/** Creates the styling activities over a database. */
export function createStylingActivities({ db }: { db: Db }): StylingActivities {
  return {
    /**
     * Picks up to `itemCount` available items in the member's size, spreading them over the
     * preferred categories. The order of candidates is a hash of order and item ids: stable on
     * retry (the same attempt picks the same items) yet different for concurrent orders, so
     * racing orders rarely collide on the same pieces.
     */
    async pickItems(input: PickItemsInput): Promise<PickItemsResult> {
      const existing = await recordedPick(db, input.orderId, input.attempt);
      const candidates = await pickCandidates(db, {
        orderId: input.orderId,
        size: input.size,
        categories: input.categories,
        excludeItemIds: input.excludeItemIds,
        onlyItemIds: existing,
        limit: 200,
      });
      const chosen = existing ? candidates : spreadOverCategories(candidates, input.categories, input.itemCount);
      const chosenIds = new Set(chosen.map((c) => c.itemId));
      const chosenCategories = new Set(chosen.map((c) => c.category));
      // A repeat of a recorded pick has no candidates beyond its own items: no backups, the first answer's stand.
      const alternatives = candidates
        .filter((c) => !chosenIds.has(c.itemId) && chosenCategories.has(c.category))
        .slice(0, ALTERNATIVES_PER_SLOT * chosen.length);
      if (!existing && chosen.length > 0)
        await recordPick(
          db,
          input.orderId,
          input.attempt,
          chosen.map((c) => c.itemId),
        );
      return { items: chosen, alternatives };
    },
  };
}

function spreadOverCategories(candidates: PickedItem[], categories: string[], count: number): PickedItem[] {
  const byCategory = new Map(categories.map((c) => [c, candidates.filter((i) => i.category === c)]));
  const chosen: PickedItem[] = [];
  while (chosen.length < count) {
    let progressed = false;
    for (const category of categories) {
      const next = byCategory.get(category)?.shift();
      if (next && chosen.length < count) {
        chosen.push(next);
        progressed = true;
      }
    }
    if (!progressed) break;
  }
  return chosen;
}
