/** The stock catalogue seeded into an empty database, so a fresh `npm start` has clothes to rent. */
import { count } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { items } from '../../db/schema/inventory';

export const CATEGORIES = ['dress', 'top', 'trousers', 'skirt', 'jacket', 'knitwear'] as const;
export const SIZES = ['XS', 'S', 'M', 'L', 'XL'] as const;
export const COLOURS = ['black', 'white', 'navy', 'red', 'green', 'camel'] as const;

/** Inserts `perCombination` items for every category × size × colour when the table is empty. */
export async function seedCatalogueIfEmpty({ db }: { db: Db }, perCombination = 2): Promise<number> {
  const [{ n }] = await db.select({ n: count() }).from(items);
  if (n > 0) return 0;
  const rows: (typeof items.$inferInsert)[] = [];
  CATEGORIES.forEach((category, ci) =>
    SIZES.forEach((size) =>
      COLOURS.forEach((colour) => {
        for (let n = 1; n <= perCombination; n++) {
          const sku = `${category}-${colour}-${size}`.toUpperCase();
          rows.push({
            id: `itm_${sku.toLowerCase()}-${n}`,
            sku,
            category,
            size,
            colour,
            purchasePriceCents: 2900 + ci * 1000 + n * 100,
          });
        }
      }),
    ),
  );
  await db.insert(items).values(rows).onConflictDoNothing();
  return rows.length;
}
