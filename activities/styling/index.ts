/** Styling activities: choose items for a box from available stock. */
import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { items } from '../../db/schema/inventory';
import { picks } from '../../db/schema/styling';
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
      const existing = await db
        .select({ itemIds: picks.itemIds })
        .from(picks)
        .where(and(eq(picks.orderId, input.orderId), eq(picks.attempt, input.attempt)));
      const candidates = await db
        .select({ itemId: items.id, sku: items.sku, category: items.category, size: items.size, colour: items.colour })
        .from(items)
        .where(
          and(
            eq(items.size, input.size),
            inArray(items.category, input.categories),
            existing[0] ? inArray(items.id, existing[0].itemIds) : eq(items.state, 'available'),
            input.excludeItemIds.length > 0 ? notInArray(items.id, input.excludeItemIds) : undefined,
          ),
        )
        .orderBy(sql`md5(${items.id} || ${input.orderId})`)
        .limit(200);
      const chosen = existing[0] ? candidates : spreadOverCategories(candidates, input.categories, input.itemCount);
      const chosenIds = new Set(chosen.map((c) => c.itemId));
      const chosenCategories = new Set(chosen.map((c) => c.category));
      // A repeat of a recorded pick has no candidates beyond its own items: no backups, the first answer's stand.
      const alternatives = candidates
        .filter((c) => !chosenIds.has(c.itemId) && chosenCategories.has(c.category))
        .slice(0, ALTERNATIVES_PER_SLOT * chosen.length);
      if (!existing[0] && chosen.length > 0) {
        await db
          .insert(picks)
          .values({ orderId: input.orderId, attempt: input.attempt, itemIds: chosen.map((c) => c.itemId) })
          .onConflictDoNothing();
      }
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
